"""Case numbers without a row every intake of a street must lock: on PostgreSQL, a sequence per
street and year, reached through one function.

The application's role may not create anything (shanzhi.audit), so the function runs as its
owner (SECURITY DEFINER) and makes a street's sequence for a year at its first case. SQLite,
which has one writer at a time anyway, keeps counting in CaseNumberCounter.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION shanzhi_case_number_next(street bigint, year integer)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    name text := format('case_number_%s_%s', street, year);
BEGIN
    IF to_regclass(name) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', name);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- the first case of another transaction made it at the same moment
        END;
    END IF;
    RETURN nextval(name);
END;
$$;
"""
POSTGRES_DOWN = "DROP FUNCTION IF EXISTS shanzhi_case_number_next(bigint, integer);"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_source_labels")]
    operations = [migrations.RunPython(install, remove)]
