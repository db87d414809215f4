"""The grid worker's registry phone pages: the visit list, person cards, visits to residents and
enterprises, and verification worklists."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shanzhi import clock
from shanzhi.cases.models import Case, Source
from shanzhi.protection import unseal
from shanzhi.registry.models import CaseLink, ItemStatus, VerificationItem, Visit
from shanzhi.registry.services import verification_task_create, visit_log

from .registry_factories import id_number, make_enterprise, make_house, make_person

pytestmark = pytest.mark.django_db

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
# Late on the last evening of 2023 in Hangzhou: already 2024 nowhere that matters here.
NEW_YEARS_EVE = datetime(2023, 12, 31, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def visit_data(**overrides):
    data = {
        "visited_at": timezone.localtime(clock.now()).strftime(LOCAL_MINUTE),
        "summary": "见到本人,身体尚好,家中整洁",
        "problems": "",
    }
    data.update(overrides)
    return data


def person_task(world, *, title="2024年人口信息核查"):
    return verification_task_create(
        actor=world.leader,
        title=title,
        record_kind="person",
        areas=[world.community],
        due_on=timezone.localdate(clock.now()) + timedelta(days=7),
    )


# The visit list ----------------------------------------------------------------------------------


def test_visit_list_shows_care_persons_due_in_the_own_grids_only(
    client, world, django_assert_max_num_queries
):
    house = make_house(world, address="城厢街道景港府1幢101室")
    alone = make_person(world, name="王阿婆", tags=("living_alone",), house=house)
    visited = make_person(world, name="李阿公", tags=("living_alone",))
    visit_log(
        actor=world.grid_worker,
        person=visited,
        summary="身体健康",
        visited_at=clock.now() - timedelta(days=1),
    )
    late = make_person(world, name="陈奶奶", tags=("living_alone",))
    visit_log(
        actor=world.grid_worker,
        person=late,
        summary="腿脚不便",
        visited_at=clock.now() - timedelta(days=10, hours=1),
    )
    make_person(world, name="赵奶奶", area=world.sibling_microgrid, tags=("living_alone",))
    make_person(world, name="钱先生")
    client.force_login(world.grid_worker)

    html = client.get("/field/visits/").content.decode()
    assert "王阿婆" in html and "陈奶奶" in html
    assert "李阿公" not in html and "赵奶奶" not in html and "钱先生" not in html
    assert f'href="/field/people/{alone.pk}/"' in html
    assert "独居老人" in html and "城厢街道景港府1幢101室" in html
    assert "从未走访" in html
    assert "超期 3 天" in html
    # Never visited comes before the longest waiting.
    assert html.index("王阿婆") < html.index("陈奶奶")
    assert client.get("/field/visits/badge/").content.decode().count(">2<") == 1

    for i in range(10):
        make_person(world, name=f"关爱对象{i}", tags=("living_alone", "disabled"))
    with django_assert_max_num_queries(10):
        html = client.get("/field/visits/").content.decode()
    assert "关爱对象9" in html


def test_field_nav_loads_the_visit_badge(client, world):
    client.force_login(world.grid_worker)
    html = client.get("/field/").content.decode()
    assert 'hx-get="/field/visits/badge/"' in html
    assert "/field/verification/" in html
    assert client.get("/field/visits/badge/").content.decode().strip() == ""


def test_logging_a_visit_takes_the_person_off_the_list(client, world):
    alone = make_person(world, name="王阿婆", tags=("living_alone",))
    client.force_login(world.grid_worker)
    form = client.get(f"/field/people/{alone.pk}/visit/").content.decode()
    assert "走访时间" in form and "转为事件上报" in form

    response = client.post(f"/field/people/{alone.pk}/visit/", visit_data(), follow=True)
    assert response.redirect_chain[-1][0] == "/field/visits/"
    html = response.content.decode()
    assert "已登记对王阿婆的走访" in html
    assert f"/field/people/{alone.pk}/" not in html
    visit = Visit.objects.get()
    assert visit.person == alone and visit.visitor == world.grid_worker
    assert visit.summary == "见到本人,身体尚好,家中整洁" and visit.case is None


def test_a_visit_without_a_summary_is_refused(client, world):
    alone = make_person(world, tags=("living_alone",))
    client.force_login(world.grid_worker)
    response = client.post(f"/field/people/{alone.pk}/visit/", visit_data(summary="   "))
    assert response.status_code == 400
    assert "请填写走访情况" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_visit_in_the_future_is_refused(client, world):
    alone = make_person(world, tags=("living_alone",))
    client.force_login(world.grid_worker)
    tomorrow = timezone.localtime(clock.now()) + timedelta(days=1)
    response = client.post(
        f"/field/people/{alone.pk}/visit/", visit_data(visited_at=tomorrow.strftime(LOCAL_MINUTE))
    )
    assert response.status_code == 400
    assert "走访时间不能晚于现在" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_persons_problems_raised_as_a_case_become_a_patrol_case(client, world):
    alone = make_person(world, name="王阿婆", tags=("living_alone",))
    client.force_login(world.grid_worker)
    response = client.post(
        f"/field/people/{alone.pk}/visit/",
        visit_data(problems="楼道灯坏了,晚上看不见", raise_case="on"),
        follow=True,
    )
    case = Case.objects.get()
    assert case.source == Source.GRID_PATROL
    assert case.number in response.content.decode()
    assert CaseLink.objects.filter(case=case, person=alone).exists()
    card = client.get(f"/field/people/{alone.pk}/").content.decode()
    assert case.number in card and "楼道灯坏了" in card


# Enterprises -------------------------------------------------------------------------------------


def test_enterprise_list_shows_the_own_grids_enterprises_with_their_visits(
    client, world, django_assert_max_num_queries
):
    visited = make_enterprise(world, name="景港机械有限公司")
    make_enterprise(world, name="湘湖纺织有限公司")
    make_enterprise(world, name="山兴里食品厂", area=world.sibling_microgrid)
    moment = datetime(2024, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for visited_at in (moment - timedelta(days=1), moment - timedelta(days=3), NEW_YEARS_EVE):
        visit_log(
            actor=world.grid_worker, enterprise=visited, summary="生产正常", visited_at=visited_at
        )
    client.force_login(world.grid_worker)

    with clock.acting_at(moment), django_assert_max_num_queries(5):
        html = client.get("/field/enterprises/").content.decode()
    assert "景港机械有限公司" in html and "湘湖纺织有限公司" in html
    assert "山兴里食品厂" not in html
    assert "上次走访 2024-06-14" in html and "今年走访 2 次" in html
    assert "从未走访" in html
    assert f"/field/enterprises/{visited.pk}/visit/" in html

    searched = client.get("/field/enterprises/", {"q": "纺织"}).content.decode()
    assert "湘湖纺织有限公司" in searched and "景港机械有限公司" not in searched


def test_enterprise_problems_become_an_appeal_case_linked_to_it(client, world):
    enterprise = make_enterprise(world, name="景港机械有限公司")
    client.force_login(world.grid_worker)
    response = client.post(
        f"/field/enterprises/{enterprise.pk}/visit/",
        visit_data(problems="厂区门口道路破损,货车进出困难", raise_case="on"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/field/enterprises/"
    case = Case.objects.get()
    assert case.source == Source.ENTERPRISE
    assert CaseLink.objects.filter(case=case, enterprise=enterprise).exists()
    visit = Visit.objects.get()
    assert visit.enterprise == enterprise and visit.case == case
    html = response.content.decode()
    assert "企业诉求已上报" in html and case.number in html


def test_raising_an_appeal_without_problems_is_refused(client, world):
    enterprise = make_enterprise(world)
    client.force_login(world.grid_worker)
    response = client.post(
        f"/field/enterprises/{enterprise.pk}/visit/", visit_data(raise_case="on")
    )
    assert response.status_code == 400
    assert "请填写反映的问题" in response.content.decode()
    assert not Visit.objects.exists() and not Case.objects.exists()


# The person card ---------------------------------------------------------------------------------


def test_person_card_shows_masked_numbers_and_no_unmasking(client, world):
    number = id_number()
    person = make_person(
        world,
        name="王阿婆",
        number=number,
        phone="13912345678",
        tags=("living_alone", "community_correction"),
        house=make_house(world, address="城厢街道景港府2幢202室"),
    )
    client.force_login(world.grid_worker)
    html = client.get(f"/field/people/{person.pk}/").content.decode()
    assert unseal(person.id_number_sealed) == number
    assert person.id_number_masked in html
    assert f"{number[:6]}********{number[-4:]}" in html
    assert number not in html
    assert "139****5678" in html and "13912345678" not in html
    assert "城厢街道景港府2幢202室" in html and "独居老人" in html
    # A grid worker is not given sensitive tags, nor any way to read the numbers in the clear.
    assert "社区矫正" not in html
    assert "reveal" not in html and "unmask" not in html and "查看完整" not in html
    assert html.count("<form") == 0
    assert f'href="/field/people/{person.pk}/visit/"' in html and "从未走访" in html


def test_a_person_of_another_grid_is_not_found(client, world):
    stranger = make_person(world, name="赵奶奶", area=world.sibling_microgrid)
    client.force_login(world.grid_worker)
    assert client.get(f"/field/people/{stranger.pk}/").status_code == 404
    assert client.get(f"/field/people/{stranger.pk}/visit/").status_code == 404
    response = client.post(f"/field/people/{stranger.pk}/visit/", visit_data())
    assert response.status_code == 404
    assert not Visit.objects.exists()
    other = make_enterprise(world, area=world.sibling_microgrid)
    assert client.get(f"/field/enterprises/{other.pk}/visit/").status_code == 404


# Verification ------------------------------------------------------------------------------------


def test_verification_worklist_shows_only_the_own_grids_records(
    client, world, django_assert_max_num_queries
):
    mine = make_person(world, name="王阿婆", house=make_house(world, address="景港府3幢301室"))
    make_person(world, name="赵奶奶", area=world.sibling_microgrid)
    task = person_task(world)
    client.force_login(world.grid_worker)

    tasks = client.get("/field/verification/").content.decode()
    assert "2024年人口信息核查" in tasks and "待核查 1 / 1" in tasks

    for i in range(5):
        make_person(world, name=f"居民{i}", house=make_house(world))
    VerificationItem.objects.bulk_create(
        VerificationItem(task=task, area=world.microgrid, person=p)
        for p in mine.__class__.objects.filter(name__startswith="居民")
    )
    with django_assert_max_num_queries(8):
        html = client.get(f"/field/verification/{task.pk}/").content.decode()
    assert "王阿婆" in html and mine.id_number_masked in html and "景港府3幢301室" in html
    assert "赵奶奶" not in html
    assert "居民4" in html
    assert "核实无误" in html and "已更正" in html


def test_checking_an_item_updates_its_row_and_the_progress(client, world):
    first = make_person(world, name="王阿婆")
    make_person(world, name="李阿公")
    task = person_task(world)
    item = VerificationItem.objects.get(task=task, person=first)
    client.force_login(world.grid_worker)
    url = f"/field/verification/{task.pk}/items/{item.pk}/"

    response = client.post(url, {"status": "verified", "note": ""}, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert f'id="item-{item.pk}"' in fragment and "已核实" in fragment
    assert 'hx-swap-oob="true"' in fragment and "已核查 <strong>1</strong> / 2 条" in fragment
    item.refresh_from_db()
    assert item.status == ItemStatus.VERIFIED and item.checked_by == world.grid_worker

    other = VerificationItem.objects.get(task=task, person__name="李阿公")
    response = client.post(
        f"/field/verification/{task.pk}/items/{other.pk}/",
        {"status": "corrected", "note": "电话已更新"},
        follow=True,
    )
    assert "已记录核查结果:已更正" in response.content.decode()
    assert "已核查 <strong>2</strong> / 2 条" in response.content.decode()
    other.refresh_from_db()
    assert other.status == ItemStatus.CORRECTED and other.note == "电话已更新"
    assert "已完成 2 条" in client.get("/field/verification/").content.decode()


def test_corrected_without_a_note_is_refused(client, world):
    person = make_person(world)
    task = person_task(world)
    item = VerificationItem.objects.get(task=task, person=person)
    client.force_login(world.grid_worker)
    url = f"/field/verification/{task.pk}/items/{item.pk}/"

    response = client.post(url, {"status": "corrected", "note": " "})
    assert response.status_code == 400
    assert "请说明更正了什么" in response.content.decode()
    fragment = client.post(url, {"status": "corrected"}, HTTP_HX_REQUEST="true").content.decode()
    assert "请说明更正了什么" in fragment and "核实无误" in fragment
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING and item.checked_at is None


def test_an_item_of_another_grid_cannot_be_checked(client, world):
    make_person(world)
    stranger = make_person(world, area=world.sibling_microgrid)
    task = person_task(world)
    item = VerificationItem.objects.get(task=task, person=stranger)
    client.force_login(world.grid_worker)
    response = client.post(
        f"/field/verification/{task.pk}/items/{item.pk}/", {"status": "verified"}
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.status == ItemStatus.PENDING


# Access ------------------------------------------------------------------------------------------

FIELD_URLS = (
    "/field/visits/",
    "/field/visits/badge/",
    "/field/enterprises/",
    "/field/verification/",
)


def test_registry_field_pages_are_for_grid_workers_only(client, world):
    person = make_person(world)
    task = person_task(world)
    urls = (*FIELD_URLS, f"/field/people/{person.pk}/", f"/field/verification/{task.pk}/")
    for url in urls:
        assert client.get(url).status_code == 302, url
    client.force_login(world.leader)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "仅供网格员使用" in response.content.decode()
    response = client.post(f"/field/people/{person.pk}/visit/", visit_data())
    assert response.status_code == 403
    assert not Visit.objects.exists()
