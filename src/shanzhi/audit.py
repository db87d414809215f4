"""What the application may never erase, and the PostgreSQL grants that hold it to that.

Two database roles: the owner, which owns every table and runs the migrations, and the
application role, which owns nothing and may only read and write rows. On the tables below it
may not do everything: the logs are append-only (it may add rows and read them, never change,
delete or truncate them), and the records whose deletion is soft may not be deleted for real.
Owning nothing, it can neither ALTER a table (so no DISABLE TRIGGER) nor TRUNCATE one, and as a
plain role it cannot SET session_replication_role.

These lists are the one place the rule is written: `shanzhi dbroles` and every `migrate`
(through `post_migrate`) derive the grants from them. A label whose model this build does not
have yet is skipped, so a log added by a later migration is covered as soon as it exists.
"""

from collections.abc import Iterable

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

# Logs: rows are added and read, never changed or removed.
APPEND_ONLY = (
    "cases.CaseAction",
    "registry.AccessLog",
    "accounts.SecurityEvent",
    "participation.Ballot",
    "participation.BallotPick",
    "participation.PointEntry",
)
# Records the application retires softly (deleted_at, states): they carry history.
NO_HARD_DELETE = (
    "cases.Case",
    "cases.Attachment",
    "registry.Building",
    "registry.House",
    "registry.Person",
    "registry.Enterprise",
    "registry.Facility",
    "registry.Visit",
)
APP_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
_ALLOWED = {
    "append_only": frozenset({"SELECT", "INSERT"}),
    "no_hard_delete": frozenset({"SELECT", "INSERT", "UPDATE"}),
}


def _tables(labels: Iterable[str]) -> list[str]:
    tables = []
    for label in labels:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue  # not in this build (yet)
        tables.append(model._meta.db_table)
    return tables


def append_only_tables() -> list[str]:
    """The tables of the append-only logs this build has."""
    return _tables(APPEND_ONLY)


def no_hard_delete_tables() -> list[str]:
    """The tables of the softly deleted records this build has."""
    return _tables(NO_HARD_DELETE)


def allowed_privileges() -> dict[str, frozenset[str]]:
    """Each protected table and the only privileges a role other than its owner may hold on it."""
    allowed = dict.fromkeys(no_hard_delete_tables(), _ALLOWED["no_hard_delete"])
    allowed |= dict.fromkeys(append_only_tables(), _ALLOWED["append_only"])
    return allowed


def _quoted(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def protect(connection: BaseDatabaseWrapper) -> list[str]:
    """Revoke on each protected table what the lists forbid, from every role but its owner.

    Role names are read from the tables' own grants, so this needs no configuration and may run
    after every migration; it acts only on tables the connected role owns (or as a superuser).
    Returns the statements it ran.
    """
    if connection.vendor != "postgresql":
        return []
    done = []
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for table, allowed in allowed_privileges().items():
            if table not in existing:
                continue
            cursor.execute(
                """
                SELECT pg_has_role(current_user, c.relowner, 'USAGE'),
                       CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                       a.privilege_type
                FROM pg_class c
                LEFT JOIN LATERAL aclexplode(c.relacl) a ON a.grantee <> c.relowner
                WHERE c.oid = %s::regclass
                """,
                [_quoted(connection, table)],
            )
            rows = cursor.fetchall()
            if not rows or not rows[0][0]:
                continue  # owned by someone else: not ours to change
            forbidden: dict[str, set[str]] = {}
            for _, grantee, privilege in rows:
                if grantee is not None and privilege not in allowed:
                    forbidden.setdefault(grantee, set()).add(privilege)
            for grantee, privileges in sorted(forbidden.items()):
                statement = (
                    f"REVOKE {', '.join(sorted(privileges))} ON {_quoted(connection, table)} "
                    f"FROM {grantee}"
                )
                cursor.execute(statement)
                done.append(statement)
    return done


def role_exists(connection: BaseDatabaseWrapper, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def roles_set_up(
    connection: BaseDatabaseWrapper,
    *,
    owner: str,
    app: str,
    owner_password: str = "",
    app_password: str = "",
) -> list[str]:
    """Create (or bring in line) the owner and the application role on this database.

    Run as a superuser or the database's owner with CREATEROLE. The owner receives the database
    and every table, sequence and function of its schema; the application role gets row
    privileges only, also on tables later migrations create, then `protect` takes back what the
    lists forbid. Safe to run again. Returns the statements it ran (passwords left out).
    """
    if connection.vendor != "postgresql":
        raise ValueError("数据库角色只适用于 PostgreSQL")
    q = connection.ops.quote_name
    statements: list[tuple[str, list[str]]] = []
    for role, password, options in (
        (owner, owner_password, "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
        (
            app,
            app_password,
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT",
        ),
    ):
        verb = "ALTER" if role_exists(connection, role) else "CREATE"
        statements.append((f"{verb} ROLE {q(role)} WITH {options}", []))
        if password:
            statements.append((f"ALTER ROLE {q(role)} WITH PASSWORD %s", [password]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
    # Membership would let the application role act as the owner, or write every table.
    for group in (owner, "pg_write_all_data"):
        if _member_of(connection, app, group):
            statements.append((f"REVOKE {q(group)} FROM {q(app)}", []))
    owned = _schema_objects(connection, schema)
    statements += [
        (f"ALTER DATABASE {q(database)} OWNER TO {q(owner)}", []),
        (f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC", []),
        (f"GRANT USAGE, CREATE ON SCHEMA {q(schema)} TO {q(owner)}", []),
        *((f"ALTER {kind} {name} OWNER TO {q(owner)}", []) for kind, name in owned),
        (f"GRANT CONNECT, TEMPORARY ON DATABASE {q(database)} TO {q(app)}", []),
        (f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(app)}", []),
        (f"REVOKE ALL ON ALL TABLES IN SCHEMA {q(schema)} FROM {q(app)}", []),
        (
            f"GRANT {', '.join(APP_TABLE_PRIVILEGES)} ON ALL TABLES IN SCHEMA {q(schema)} "
            f"TO {q(app)}",
            [],
        ),
        (f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(app)}", []),
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
            f"GRANT {', '.join(APP_TABLE_PRIVILEGES)} ON TABLES TO {q(app)}",
            [],
        ),
        (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {q(app)}",
            [],
        ),
    ]
    with connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params or None)
    return [statement for statement, _ in statements] + protect(connection)


def _member_of(connection: BaseDatabaseWrapper, role: str, group: str) -> bool:
    if not (role_exists(connection, role) and role_exists(connection, group)):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, group])
        return bool(cursor.fetchone()[0])


def _schema_objects(connection: BaseDatabaseWrapper, schema: str) -> list[tuple[str, str]]:
    """(kind, qualified name) of the tables, sequences, views and functions in `schema`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                  WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                   c.oid::regclass::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
              -- a sequence owned by a column follows its table
              AND NOT EXISTS (
                  SELECT 1 FROM pg_depend d
                  WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S'
              )
            UNION ALL
            SELECT 'FUNCTION', p.oid::regprocedure::text
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = %s AND p.prokind = 'f'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1, 2
            """,
            [schema, schema],
        )
        return [(kind, name) for kind, name in cursor.fetchall()]
