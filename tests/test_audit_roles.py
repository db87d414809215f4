"""The audit the application cannot erase: on PostgreSQL the suite connects as the application
role, which owns nothing, may only add to and read the logs, and may not delete records."""

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from shanzhi import audit
from shanzhi.cases.models import CaseAction
from shanzhi.registry import services
from shanzhi.registry.models import AccessLog, Person

from . import db_roles
from .case_factories import make_case
from .registry_factories import make_person

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="数据库角色与权限只在 PostgreSQL 上"
)


def _refused(statement: str, match: str, params: list | None = None) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        connection.cursor().execute(statement, params)


def test_the_append_only_logs_are_listed_once_and_a_missing_model_is_skipped():
    tables = audit.append_only_tables()
    assert {"cases_caseaction", "registry_accesslog"} <= set(tables)
    try:
        from shanzhi.accounts.models import SecurityEvent  # noqa: F401 - part of the security work
    except ImportError:
        assert not any("securityevent" in table for table in tables)
    else:
        assert "accounts_securityevent" in tables
    allowed = audit.allowed_privileges()
    assert allowed["cases_caseaction"] == {"SELECT", "INSERT"}
    assert allowed["registry_person"] == {"SELECT", "INSERT", "UPDATE"}


@postgres_only
@pytest.mark.django_db
def test_the_suite_runs_as_a_role_that_owns_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole")
        (owned,) = cursor.fetchone()
    assert user == db_roles.ACTIVE[0].app.user
    assert not superuser and owned == 0


@postgres_only
@pytest.mark.django_db
def test_the_application_role_cannot_erase_the_logs(world):
    case = make_case(world)
    person = make_person(world)
    services.personal_reveal(actor=world.leader, record=person, field="id_number", reason="核对")
    for table in ("cases_caseaction", "registry_accesslog"):
        _refused(f"TRUNCATE {table}", "permission denied")
        _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL", "must be owner")
        _refused(f"UPDATE {table} SET id = id", "permission denied")  # noqa: S608
        _refused(f"DELETE FROM {table}", "permission denied")  # noqa: S608
        _refused(f"DROP TABLE {table}", "must be owner")
    _refused("SET session_replication_role = replica", "permission denied")
    _refused("CREATE TABLE erase_helper (id int)", "permission denied")
    assert CaseAction.objects.filter(case=case).count() == 1
    assert AccessLog.objects.get().reason == "核对"


@postgres_only
@pytest.mark.django_db
def test_records_are_deleted_softly_and_never_for_real(world):
    person = make_person(world)
    services.record_delete(actor=world.grid_worker, record=person, expected_version=person.version)
    person.refresh_from_db()
    assert person.deleted_at is not None
    _refused("DELETE FROM registry_person WHERE id = %s", "permission denied", [person.pk])
    _refused("TRUNCATE registry_person CASCADE", "permission denied")
    with pytest.raises(DatabaseError), transaction.atomic():
        Person.objects.filter(pk=person.pk).delete()
    assert Person.objects.filter(pk=person.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_owner_meets_the_trigger_and_dbroles_can_run_again(world):
    case = make_case(world)
    roles = db_roles.ACTIVE[0]
    with db_roles.connected_as(roles.owner):
        _refused("UPDATE cases_caseaction SET note = 'x' WHERE case_id = %s", "只追加", [case.pk])
    out = io.StringIO()
    with db_roles.connected_as(roles.superuser):
        call_command("dbroles", owner=roles.owner.user, app=roles.app.user, stdout=out)
    assert "已设置数据库角色" in out.getvalue()
    _refused("TRUNCATE cases_caseaction", "permission denied")
    assert CaseAction.objects.filter(case=case).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_protect_takes_back_what_a_grant_gave_too_much(world):
    roles = db_roles.ACTIVE[0]
    with db_roles.connected_as(roles.owner):
        with connection.cursor() as cursor:
            cursor.execute(
                f'GRANT UPDATE, DELETE, TRUNCATE ON cases_caseaction TO "{roles.app.user}"'
            )
        done = audit.protect(connection)
    assert any("cases_caseaction" in statement for statement in done)
    _refused("TRUNCATE cases_caseaction", "permission denied")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_check_deploy_warns_when_connected_as_the_owner():
    from shanzhi.ops.checks import database_role_check

    assert database_role_check(databases=["default"]) == []
    with db_roles.connected_as(db_roles.ACTIVE[0].owner):
        (warning,) = database_role_check(databases=["default"])
    assert warning.id == "shanzhi.W001" and "属主" in warning.msg
