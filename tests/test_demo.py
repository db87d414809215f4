"""`shanzhi demo`: the seeds' scale, the same street for the same seed, streets side by side."""

import hashlib
from contextlib import suppress
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from shanzhi import policy
from shanzhi.accounts.models import RoleGrant, Unit, User
from shanzhi.areas.models import Area
from shanzhi.areas.selectors import area_level_counts

from .factories import Rollback

pytestmark = pytest.mark.django_db


def fingerprint() -> str:
    """A digest of everything the demo makes, free of database ids."""
    rows = [
        *Area.objects.values_list("code", "name", "level", "path", "parent__code", "street__code"),
        *Unit.objects.values_list("name", "kind", "area__code"),
        *User.objects.values_list("username", "full_name", "unit__name"),
        *RoleGrant.objects.values_list("user__username", "role", "area__code"),
    ]
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-cases", "--no-registry", *args, stdout=out)
    return out.getvalue()


def demo_then_roll_back(*args: str) -> tuple[str, str, dict[str, int]]:
    """Run the demo in a transaction that is rolled back: its output, fingerprint and counts."""
    with suppress(Rollback), transaction.atomic():
        output = run_demo(*args)
        counts = area_level_counts(area=Area.objects.get(code="330109001"))
        digest = fingerprint()
        raise Rollback
    assert not Area.objects.exists()
    return output, digest, counts


def test_full_scale_matches_chengxiang_and_is_identical_for_the_same_seed():
    output, first, counts = demo_then_roll_back("--scale", "full", "--seed", "7")
    assert (counts["zone"], counts["community"], counts["grid"], counts["microgrid"]) == (
        14,
        36,
        186,
        1904,
    )
    assert "城厢街道(编码 330109001)" in output
    assert "chengxiang.gw001" in output and "shanzhi2026" in output
    _, second, _ = demo_then_roll_back("--scale", "full", "--seed", "7")
    assert second == first


def test_another_seed_gives_another_street():
    _, one, _ = demo_then_roll_back("--scale", "small", "--seed", "1")
    _, two, counts = demo_then_roll_back("--scale", "small", "--seed", "2")
    assert one != two
    assert counts["microgrid"] == 60


def test_every_grid_has_its_grid_worker_and_every_role_is_staffed():
    run_demo("--scale", "small")
    street = Area.objects.get(code="330109001")
    grids = Area.objects.filter(street=street, level__in=["grid", "dedicated_grid"])
    staffed = set(
        RoleGrant.objects.filter(role="grid_worker", area__in=grids).values_list(
            "area_id", flat=True
        )
    )
    assert staffed == set(grids.values_list("pk", flat=True))
    roles = set(RoleGrant.objects.filter(street=street).values_list("role", flat=True))
    assert roles == {"resident", "grid_worker", "dispatcher", "handler", "leader", "administrator"}
    assert Unit.objects.filter(street=street, name="城厢派出所").exists()
    assert Unit.objects.filter(street=street, name="湘湖社区居委会").exists()


def test_second_street_lands_beside_the_first_and_leaders_see_only_their_own():
    run_demo("--scale", "small")
    before = fingerprint()
    run_demo("--scale", "small", "--street", "330102008")
    chengxiang = Area.objects.get(code="330109001")
    nanxing = Area.objects.get(code="330102008")
    assert chengxiang.parent.code == "330109" and nanxing.parent.code == "330102"
    assert chengxiang.parent.parent == nanxing.parent.parent  # both under 杭州市
    # The first street is untouched by the second.
    assert area_level_counts(area=chengxiang)["microgrid"] == 60
    assert before != fingerprint()

    leader = User.objects.get(username="chengxiang.leader")
    visible = policy.areas_visible_to(leader)
    assert visible.filter(pk=chengxiang.pk).exists()
    assert not visible.filter(street=nanxing).exists()
    nanxing_leader = User.objects.get(username="nanxing.leader")
    assert not policy.areas_visible_to(nanxing_leader).filter(street=chengxiang).exists()


def test_the_same_street_twice_is_refused_and_changes_nothing():
    run_demo("--scale", "small")
    before = fingerprint()
    with pytest.raises(CommandError, match="已存在"):
        run_demo("--scale", "small")
    assert fingerprint() == before


def test_if_empty_leaves_existing_data_and_lists_accounts():
    run_demo("--scale", "small")
    before = fingerprint()
    output = run_demo("--if-empty")
    assert "未生成演示街道" in output and "chengxiang.admin" in output
    assert fingerprint() == before


def test_unknown_street_needs_its_names():
    with pytest.raises(CommandError, match="--street-name"):
        run_demo("--street", "330110001")
    output = run_demo(
        "--scale",
        "small",
        "--street",
        "330110001",
        "--street-name",
        "北山街道",
        "--district-code",
        "330110",
        "--district-name",
        "余杭区",
    )
    assert "北山街道(编码 330110001)" in output
    assert Area.objects.get(code="330110001").parent.name == "余杭区"
