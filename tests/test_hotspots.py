"""Recurring problems (高发问题): found by place and by text, shown on the dashboard, and turned
by a leader into one source-governance task that closes only after a quiet period."""

from datetime import timedelta
from decimal import Decimal

import pytest

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseClock, Source
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.routing.hotspots import hotspots_find, recurrences
from shanzhi.routing.services import hotspot_adopt

from .case_factories import case_type, police
from .routing_factories import LAMP, NOISE, OIL, settings_for

pytestmark = pytest.mark.django_db


def report(world, code, text, *, area=None, days_ago=0, lat=None, lon=None) -> Case:
    with clock.acting_at(clock.now() - timedelta(days=days_ago)):
        case, _ = services.case_report(
            area=area or world.microgrid,
            source=Source.HOTLINE,
            actor=world.dispatcher,
            description=text,
            case_type=case_type(world, code) if code else None,
            latitude=Decimal(lat) if lat else None,
            longitude=Decimal(lon) if lon else None,
        )
    return case


def plant(world, days=(1, 5, 9, 14)) -> list[Case]:
    """The same fumes from the same kitchen, at one microgrid, four times in two weeks."""
    words = ["楼下饭店油烟很大", "饭店油烟又来了", "烟道直排熏人", "晚上油烟味很重"]
    return [report(world, OIL, w, days_ago=d) for w, d in zip(words, days, strict=True)]


def test_a_planted_hotspot_is_found_and_a_scattered_pattern_is_not(world):
    planted = plant(world)
    # The same kind of matter, but once each at four different places.
    for i, area in enumerate(
        (world.microgrid, world.sibling_microgrid, world.grid, world.far_grid)
    ):
        report(world, LAMP, f"路灯坏了第{i}处", area=area, days_ago=i + 1)
    # The same place, but spread over months: only one of them is inside the window.
    for days in (2, 70, 140):
        report(world, NOISE, f"广场舞太吵了{days}", days_ago=days)
    found = hotspots_find(street=world.street)
    by_place = [h for h in found if h.kind != "text"]
    assert len(by_place) == 1
    hotspot = by_place[0]
    assert hotspot.kind == "microgrid" and hotspot.case_type.code == OIL
    assert hotspot.place_label == world.microgrid.name and hotspot.area == world.microgrid
    assert [c.pk for c in hotspot.cases] == [c.pk for c in planted]  # newest first
    assert hotspot.task is None


def test_the_street_sets_the_count_and_the_window(world):
    plant(world, days=(1, 5, 25, 40))  # three inside the default 30 days
    settings_for(world, hotspot_min_cases=4)
    assert hotspots_find(street=world.street) == []
    settings_for(world, hotspot_min_cases=3)
    assert len(hotspots_find(street=world.street)[0].cases) == 3
    settings_for(world, hotspot_min_cases=4, hotspot_window_days=45)
    assert len(hotspots_find(street=world.street)[0].cases) == 4


def test_coordinates_group_cases_within_the_distance(world):
    # Grid-level reports (no microgrid) that carry a position: three within ~30 m, one 1 km off.
    for i, (lat, lon) in enumerate(
        [("30.180000", "120.260000"), ("30.180200", "120.260100"), ("30.180100", "120.259900")]
    ):
        report(world, LAMP, f"这里的路灯又不亮了{i}", area=world.grid, lat=lat, lon=lon, days_ago=i)
    report(world, LAMP, "远处路灯坏", area=world.grid, lat="30.190000", lon="120.260000")
    found = [h for h in hotspots_find(street=world.street) if h.kind == "nearby"]
    assert len(found) == 1 and len(found[0].cases) == 3 and found[0].radius_m == 100
    assert "附近100米内" in found[0].place_label


def test_the_same_problem_in_other_words_across_months_is_grouped(world):
    settings_for(world, similar_threshold=0.3)
    texts = [
        "湘湖路老王烧烤店每天晚上油烟扰民,烧烤烟味很重",
        "老王烧烤店油烟扰民,湘湖路这家烧烤烟味太大",
        "湘湖路的老王烧烤又在晚上烧烤,油烟扰民严重",
    ]
    for text, days, area in zip(
        texts, (10, 50, 100), (world.microgrid, world.grid, world.sibling_grid), strict=True
    ):
        report(world, OIL, text, area=area, days_ago=days)
    report(world, LAMP, "景港府小区路灯不亮", days_ago=20)
    text_groups = [h for h in hotspots_find(street=world.street) if h.kind == "text"]
    assert len(text_groups) == 1 and len(text_groups[0].cases) == 3
    assert text_groups[0].case_type.code == OIL


def test_hotspots_keep_to_the_viewers_scope(world):
    plant(world)
    assert len(hotspots_find(street=world.street, user=world.leader)) == 1
    assert hotspots_find(street=world.street, user=world.other_leader) == []


def test_a_leader_turns_a_hotspot_into_one_task_that_closes_after_a_quiet_period(world):
    settings_for(world, review_days=30)
    planted = plant(world)
    hotspot = hotspots_find(street=world.street)[0]
    with pytest.raises(PermissionDenied):
        hotspot_adopt(actor=world.dispatcher, street=world.street, key=hotspot.key)
    task = hotspot_adopt(actor=world.leader, street=world.street, key=hotspot.key)
    assert task.flow == "source" and task.state == "analysis"
    assert task.case_type.code == "YT-ZL-01" and task.area == world.microgrid
    assert task.extra["hotspot"]["cases"] == [c.number for c in planted]
    assert all(c.number in task.description for c in planted)
    # The dashboard now names the task beside the hotspot, and it cannot be taken up twice.
    assert hotspots_find(street=world.street)[0].task == task
    with pytest.raises(DomainError, match=task.number):
        hotspot_adopt(actor=world.leader, street=world.street, key=hotspot.key)

    task = services.case_act(
        case=task,
        actor=world.leader,
        action="analyse",
        cause="饭店未安装油烟净化设施",
        unit=police(world),
    )
    assert task.state == "measures" and task.unit == police(world)
    task = services.case_act(
        case=task, actor=world.handler, action="measures_done", measures="督促加装净化器"
    )
    assert task.state == "review"
    quiet = CaseClock.objects.get(case=task, name="quiet")
    assert quiet.due_at - quiet.started_at == timedelta(days=30)
    assert recurrences(task=task) == []

    # Before the period ends nothing happens; after it, with no new case there, it is signed off.
    with clock.acting_at(clock.now() + timedelta(days=10)):
        services.sweep_run()
    assert Case.objects.get(pk=task.pk).state == "review"
    with clock.acting_at(clock.now() + timedelta(days=31)):
        services.sweep_run()
    assert Case.objects.get(pk=task.pk).state == "closed"


def test_a_new_case_there_during_review_sends_the_task_back(world):
    plant(world)
    task = hotspot_adopt(
        actor=world.leader, street=world.street, key=hotspots_find(street=world.street)[0].key
    )
    task = services.case_act(
        case=task, actor=world.leader, action="analyse", cause="成因", unit=police(world)
    )
    task = services.case_act(
        case=task, actor=world.handler, action="measures_done", measures="措施"
    )
    # Elsewhere, or another kind of matter, does not count; the same kind at the place does.
    report(world, OIL, "别处的油烟", area=world.far_grid, days_ago=-1)
    report(world, LAMP, "路灯坏了", days_ago=-2)
    again = report(world, OIL, "油烟又来了", days_ago=-3)
    assert recurrences(task=task) == [again]
    with clock.acting_at(clock.now() + timedelta(days=31)):
        services.sweep_run()
    task = Case.objects.get(pk=task.pk)
    assert task.state == "measures"
    assert task.actions.order_by("-id").first().data["recurred"] == [again.number]


def test_dashboard_panel_lists_hotspots_with_their_cases_and_adopts(client, world):
    planted = plant(world)
    client.force_login(world.leader)
    page = client.get("/dashboard/").content.decode()
    assert 'hx-get="/routing/hotspots/' in page
    html = client.get("/routing/hotspots/").content.decode()
    assert world.microgrid.name in html and "餐饮油烟扰民" in html
    assert all(c.number in html for c in planted) and 'data-testid="adopt"' in html
    key = hotspots_find(street=world.street)[0].key
    response = client.post("/routing/hotspots/adopt/", {"key": key, "street": world.street.code})
    task = Case.objects.get(flow="source")
    assert response.status_code == 302 and response["Location"] == f"/cases/{task.number}/"
    html = client.get("/routing/hotspots/").content.decode()
    assert task.number in html and 'data-testid="adopt"' not in html
    client.force_login(world.dispatcher)
    html = client.get("/routing/hotspots/").content.decode()
    assert world.microgrid.name in html and 'data-testid="adopt"' not in html
    client.force_login(world.handler)
    assert client.get("/routing/hotspots/").status_code == 403


def test_the_demo_plants_hotspots_the_dashboard_finds():
    from datetime import datetime

    from django.utils import timezone

    from shanzhi.areas.models import Area
    from shanzhi.demo.generator import demo_build
    from shanzhi.demo.hotspots import demo_hotspots
    from shanzhi.demo.places import KNOWN_STREETS

    demo = demo_build(spec=KNOWN_STREETS["330109001"], seed=1, scale="small")
    assert demo_hotspots(demo=demo, year=2025).cases == 13
    assert not Case.objects.filter(reported_at__year__gt=2025).exists()
    assert Case.objects.filter(state="archived").count() == 13  # handled like any demo case
    year_end = datetime(2026, 1, 1, tzinfo=timezone.get_default_timezone())
    street = Area.objects.get(code="330109001")
    assert [h for h in hotspots_find(street=street) if h.kind != "text"] == []  # a year on
    found = hotspots_find(street=street, moment=year_end)
    assert {h.kind for h in found} == {"microgrid", "nearby", "text"}
    by_kind = {h.kind: h for h in found}
    assert (
        by_kind["microgrid"].case_type.code == "HW-DQ-01" and len(by_kind["microgrid"].cases) == 5
    )
    assert len(by_kind["nearby"].cases) == 4 and len(by_kind["text"].cases) == 4


def test_only_the_catalogue_managers_set_a_streets_thresholds(world):
    from django.core.exceptions import ValidationError

    from shanzhi.routing.models import StreetSettings
    from shanzhi.routing.services import street_settings_save

    row = StreetSettings(street=world.street, hotspot_min_cases=5)
    with pytest.raises(PermissionDenied):
        street_settings_save(actor=world.other_admin, settings=row)
    with pytest.raises(ValidationError):
        street_settings_save(
            actor=world.admin, settings=StreetSettings(street=world.street, hotspot_min_cases=1)
        )
    street_settings_save(actor=world.admin, settings=row)
    assert StreetSettings.objects.get(street=world.street).hotspot_min_cases == 5


def test_the_panel_shows_a_past_periods_hotspots_and_adopts_them(client, world):
    from datetime import datetime

    from django.utils import timezone

    year_end = datetime(2025, 12, 31, 12, tzinfo=timezone.get_default_timezone())
    for days in (1, 4, 8):
        with clock.acting_at(year_end - timedelta(days=days)):
            services.case_report(
                area=world.microgrid,
                source=Source.HOTLINE,
                actor=world.dispatcher,
                description=f"饭店油烟扰民{days}",
                case_type=case_type(world, OIL),
            )
    client.force_login(world.leader)
    assert (
        "餐饮油烟扰民" not in client.get("/routing/hotspots/", {"period": "2026"}).content.decode()
    )
    html = client.get("/routing/hotspots/", {"period": "2025"}).content.decode()
    assert "餐饮油烟扰民" in html and 'name="period" value="2025"' in html
    key = hotspots_find(street=world.street, moment=year_end)[0].key
    adopt = {"key": key, "street": world.street.code}
    client.post("/routing/hotspots/adopt/", adopt | {"period": "2026"})
    assert not Case.objects.filter(flow="source").exists()  # not a hotspot as of now
    client.post("/routing/hotspots/adopt/", adopt | {"period": "2025"})
    assert Case.objects.filter(flow="source").count() == 1
