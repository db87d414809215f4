"""Named personas on a small grid of two streets, shared by the policy, page and admin tests."""

import os
from dataclasses import dataclass

import pytest

from shanzhi.accounts.models import Role, UnitKind, User
from shanzhi.areas.models import Area, Level
from shanzhi.registry.services import registry_defaults_seed

from . import db_roles
from .browser import browser_context, page  # noqa: F401 - fixtures for the browser journeys
from .factories import make_area, make_street, make_unit, make_user


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL, the tests connect as the application role (see tests/db_roles.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with django_db_blocker.unblock():
        try:
            db_roles.restricted_start()
        except Exception as exc:
            pytest.exit(
                f"无法在 PostgreSQL 上建立测试用的属主与应用角色(DATABASE_URL 须为超级用户):{exc}",
                returncode=3,
            )
    yield
    with django_db_blocker.unblock():
        db_roles.restricted_end()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests sign administrators in with force_login; the second factor is what
    # test_second_factor.py is about, and it turns the requirement back on there.
    settings.SHANZHI_OTP_REQUIRED_ROLES = []
    # Static files come straight from the apps; no collectstatic run, no manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = None


@dataclass
class World:
    street: Area
    zone: Area
    community: Area
    other_community: Area
    grid: Area
    sibling_grid: Area
    far_grid: Area
    microgrid: Area
    sibling_microgrid: Area
    other_street: Area
    other_grid: Area
    grid_worker: User
    community_worker: User
    community_leader: User
    dispatcher: User
    handler: User
    leader: User
    admin: User
    resident: User
    outsider: User
    other_leader: User
    other_admin: User
    district_leader: User


@pytest.fixture
def world(db) -> World:
    # A transactional test before this one may have emptied the tables the migrations seed.
    registry_defaults_seed()
    street = make_street()
    zone = make_area(street, Level.ZONE, "第一片区", 1)
    community = make_area(zone, Level.COMMUNITY, "湘湖社区", 1)
    other_community = make_area(zone, Level.COMMUNITY, "湖头陈社区", 2)
    grid = make_area(community, Level.GRID, "湘湖第一网格", 1)
    sibling_grid = make_area(community, Level.GRID, "湘湖第二网格", 2)
    far_grid = make_area(other_community, Level.GRID, "湖头陈第一网格", 1)
    microgrid = make_area(grid, Level.MICROGRID, "景港府1号微网格", 1)
    sibling_microgrid = make_area(sibling_grid, Level.MICROGRID, "山兴里1号微网格", 1)

    other_street = make_street("330102008", "南星街道")
    nanxing_community = make_area(other_street, Level.COMMUNITY, "复兴社区", 1)
    other_grid = make_area(nanxing_community, Level.GRID, "复兴第一网格", 1)

    centre = make_unit(street, "社会治理综合中心")
    police = make_unit(street, "城厢派出所", UnitKind.STATION)
    committee = make_unit(community, "湘湖社区居委会", UnitKind.COMMUNITY_COMMITTEE)
    other_centre = make_unit(other_street, "南星社会治理综合中心")

    district = street.parent
    assert district is not None
    return World(
        street=street,
        zone=zone,
        community=community,
        other_community=other_community,
        grid=grid,
        sibling_grid=sibling_grid,
        far_grid=far_grid,
        microgrid=microgrid,
        sibling_microgrid=sibling_microgrid,
        other_street=other_street,
        other_grid=other_grid,
        grid_worker=make_user("gw", unit=committee, role=Role.GRID_WORKER, area=grid),
        community_worker=make_user("cw", unit=committee, role=Role.HANDLER, area=community),
        community_leader=make_user("cl", unit=committee, role=Role.LEADER, area=community),
        dispatcher=make_user("disp", unit=centre, role=Role.DISPATCHER, area=street),
        handler=make_user("police", unit=police, role=Role.HANDLER, area=street),
        leader=make_user("leader", unit=centre, role=Role.LEADER, area=street),
        admin=make_user("admin", unit=centre, role=Role.ADMINISTRATOR, area=street),
        resident=make_user("resident", role=Role.RESIDENT, area=microgrid),
        outsider=make_user("outsider", unit=police),
        other_leader=make_user("nx_leader", unit=other_centre, role=Role.LEADER, area=other_street),
        other_admin=make_user(
            "nx_admin", unit=other_centre, role=Role.ADMINISTRATOR, area=other_street
        ),
        district_leader=make_user("district", role=Role.LEADER, area=district),
    )


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API runs an event loop in the test thread; Django's async-safety guard
    # would otherwise refuse the test's own database calls there.
    if any(item.get_closest_marker("browser") for item in items):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
