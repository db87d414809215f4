"""The action log is append-only: on PostgreSQL the database itself refuses UPDATE and DELETE.

SQLite, the embedded default, has no such trigger: Django's test flush deletes rows there.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION shanzhi_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% 为只追加记录,不允许修改或删除', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_caseaction_append_only
    BEFORE UPDATE OR DELETE ON cases_caseaction
    FOR EACH ROW EXECUTE FUNCTION shanzhi_refuse_change();
"""
POSTGRES_DOWN = "DROP TRIGGER IF EXISTS cases_caseaction_append_only ON cases_caseaction;"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
