"""Ballots and the points ledger are append-only: on PostgreSQL the database refuses UPDATE and
DELETE (the function comes from the cases app's action-log migration). The default status
catalogue (each status with its default progress) is seeded for every street to share."""

from django.db import migrations

from shanzhi.participation.defaults import DEFAULT_STATUSES

TABLES = ("participation_ballot", "participation_ballotpick", "participation_pointentry")


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION shanzhi_refuse_change();",
                params=None,
            )
    status = apps.get_model("participation", "ProjectStatus")
    for sort, (name, progress, completes) in enumerate(DEFAULT_STATUSES):
        status.objects.get_or_create(
            street=None,
            name=name,
            defaults={"default_progress": progress, "completes": completes, "sort": sort},
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("participation", "0001_initial"), ("cases", "0002_action_log_append_only")]
    operations = [migrations.RunPython(install, remove)]
