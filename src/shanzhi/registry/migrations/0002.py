"""The standard tags and privileges, and the access log made append-only on PostgreSQL.

Tags and privileges are rows, not code, so that administrators can tune visit periods and who
may unmask; these are the defaults a street starts from.
"""

from django.db import migrations

from shanzhi.registry.defaults import PRIVILEGES, TAGS

POSTGRES_UP = """
CREATE TRIGGER registry_accesslog_append_only
    BEFORE UPDATE OR DELETE ON registry_accesslog
    FOR EACH ROW EXECUTE FUNCTION shanzhi_refuse_change();
"""
POSTGRES_DOWN = "DROP TRIGGER IF EXISTS registry_accesslog_append_only ON registry_accesslog;"


def seed(apps, schema_editor):
    Tag = apps.get_model("registry", "Tag")
    RolePrivilege = apps.get_model("registry", "RolePrivilege")
    for sort, (code, name, kind, interval) in enumerate(TAGS):
        Tag.objects.get_or_create(
            code=code,
            defaults={"name": name, "kind": kind, "visit_interval_days": interval, "sort": sort},
        )
    for role, privilege in PRIVILEGES:
        RolePrivilege.objects.get_or_create(role=role, privilege=privilege)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def unseed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("cases", "0002_action_log_append_only"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
