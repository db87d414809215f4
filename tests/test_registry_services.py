"""The registry's services: protected fields, logged reveals, versions, visits, 核查, case links."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from shanzhi import clock, protection
from shanzhi.cases.models import Source
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.registry import selectors, services
from shanzhi.registry.models import (
    AccessLog,
    CaseLink,
    House,
    ItemStatus,
    Person,
    PersonTag,
    RecordKind,
    Tag,
    Visit,
)
from shanzhi.registry.validators import resident_id_complete

from .case_factories import make_case
from .registry_factories import id_number, make_enterprise, make_house, make_person


def test_id_number_and_phone_are_sealed_digested_and_masked(world):
    number = id_number()
    person = make_person(world, number=number, phone="13900002222")
    stored = Person.objects.filter(pk=person.pk).values().get()
    for column, value in stored.items():
        if isinstance(value, str):
            assert number not in value, column
            assert "13900002222" not in value, column
    assert protection.unseal(person.id_number_sealed) == number
    assert person.id_number_digest == protection.digest(number)
    assert person.id_number_masked == f"{number[:6]}********{number[-4:]}"
    assert person.phone_masked == "139****2222"
    assert person.birth_date.isoformat() == "1950-03-07"


def test_sealing_the_same_value_twice_differs_but_digests_agree():
    assert protection.seal("13900002222") != protection.seal("13900002222")
    assert protection.digest("13900002222") == protection.digest("13900002222")
    assert protection.seal("") == "" and protection.digest("") == ""


def test_a_tampered_sealed_value_does_not_open():
    sealed = protection.seal("330109195003070011")
    body = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        protection.unseal(body)


def test_a_legacy_15_digit_number_is_stored_upgraded(world):
    person = make_person(world, number="330109500307001")
    assert protection.unseal(person.id_number_sealed) == resident_id_complete("33010919500307001")
    assert person.sex == "male"


def test_the_same_id_number_twice_in_a_street_is_refused(world):
    number = id_number()
    make_person(world, number=number)
    with pytest.raises(DomainError, match="已登记"):
        make_person(world, number=number, name="另一人")
    assert Person.objects.count() == 1


def test_records_sit_on_grids_only(world):
    with pytest.raises(DomainError, match="网格"):
        make_person(world, area=world.community)
    assert not Person.objects.exists()


def test_reveal_needs_the_privilege_and_a_reason_and_is_logged(world):
    person = make_person(world)
    with pytest.raises(PermissionDenied):
        services.personal_reveal(
            actor=world.grid_worker, record=person, field="id_number", reason="核对身份"
        )
    with pytest.raises(DomainError, match="查看原因"):
        services.personal_reveal(actor=world.leader, record=person, field="id_number", reason=" ")
    assert not AccessLog.objects.exists()

    value = services.personal_reveal(
        actor=world.community_leader, record=person, field="phone", reason="联系家属"
    )
    assert value == "13900002222"
    log = AccessLog.objects.get()
    assert (log.user, log.subject_id, log.field, log.reason) == (
        world.community_leader,
        person.pk,
        "phone",
        "联系家属",
    )
    assert log.area == person.area


def test_a_leader_of_another_community_may_not_reveal(world):
    person = make_person(world, area=world.far_grid)
    with pytest.raises(PermissionDenied):
        services.personal_reveal(
            actor=world.community_leader, record=person, field="id_number", reason="核对"
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_access_log_refuses_update_and_delete(world):
    person = make_person(world)
    services.personal_reveal(actor=world.leader, record=person, field="id_number", reason="核对")
    for statement in (
        "UPDATE registry_accesslog SET reason = 'x'",
        "DELETE FROM registry_accesslog",
    ):
        # The application role lacks the privilege; the owner would meet the trigger.
        with pytest.raises(DatabaseError, match=r"只追加|permission denied"), transaction.atomic():
            connection.cursor().execute(statement)
    assert AccessLog.objects.get().reason == "核对"


def test_a_stale_version_changes_nothing(world):
    person = make_person(world)
    services.record_update(
        actor=world.grid_worker, record=person, expected_version=1, fields={"note": "已搬走"}
    )
    stale = Person.objects.get(pk=person.pk)
    with pytest.raises(services.RecordConflict):
        services.record_update(
            actor=world.grid_worker, record=stale, expected_version=1, fields={"note": "覆盖"}
        )
    person.refresh_from_db()
    assert (person.note, person.version) == ("已搬走", 2)


def test_grid_workers_edit_their_own_grid_only(world):
    person = make_person(world, area=world.sibling_microgrid)
    with pytest.raises(PermissionDenied):
        services.record_update(
            actor=world.grid_worker, record=person, expected_version=1, fields={"note": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.record_update(
            actor=world.grid_worker,
            record=make_person(world),
            expected_version=1,
            fields={},
            area=world.sibling_microgrid,
        )


def test_soft_delete_hides_the_record_but_keeps_its_cases(world):
    house = make_house(world)
    case = make_case(world)
    services.case_link_add(actor=world.dispatcher, case=case, record=house)
    services.record_delete(actor=world.grid_worker, record=house, expected_version=1)
    assert not selectors.record_list(user=world.grid_worker, kind="house").exists()
    assert House.objects.filter(pk=house.pk, deleted_at__isnull=False).exists()
    assert CaseLink.objects.filter(case=case, house=house).exists()


def test_only_privileged_users_set_sensitive_tags_and_others_keep_them(world):
    person = make_person(world, tags=("community_correction", "living_alone"))
    with pytest.raises(PermissionDenied):
        services.person_tags_set(
            actor=world.grid_worker, person=person, tags=Tag.objects.filter(code="key_person")
        )
    # A grid worker's edit of the care tags leaves the sensitive tag they cannot see in place.
    services.person_tags_set(
        actor=world.grid_worker, person=person, tags=Tag.objects.filter(code="disabled")
    )
    codes = set(PersonTag.objects.filter(person=person).values_list("tag__code", flat=True))
    assert codes == {"community_correction", "disabled"}
    shown = selectors.person_tags_shown(user=world.grid_worker, person=person)
    assert [tag.code for tag in shown] == ["disabled"]
    shown = selectors.person_tags_shown(user=world.leader, person=person)
    assert {tag.code for tag in shown} == codes


def test_search_finds_an_exact_id_number_or_phone_and_nothing_by_a_part(world):
    number = id_number()
    person = make_person(world, number=number, phone="13911112222")
    make_person(world, name="李大伯")

    def found(text: str) -> list[int]:
        filters = selectors.RecordFilters(q=text)
        return list(
            selectors.record_list(
                user=world.grid_worker, kind="person", filters=filters
            ).values_list("pk", flat=True)
        )

    assert found(number.lower()) == [person.pk]
    assert found("139 1111 2222") == [person.pk]
    assert found(number[:10]) == []
    assert found("王阿") == [person.pk]


def test_care_list_holds_those_not_visited_within_their_period(world):
    never = make_person(world, name="从未走访", tags=("living_alone",))
    recent = make_person(world, name="昨天走访", tags=("living_alone",))
    lapsed = make_person(world, name="上月走访", tags=("very_old",))
    make_person(world, name="隔壁网格", area=world.sibling_microgrid, tags=("living_alone",))
    make_person(world, name="没有标签")
    moment = clock.now()
    services.visit_log(
        actor=world.grid_worker,
        person=recent,
        summary="身体尚好",
        visited_at=moment - timedelta(days=1),
    )
    services.visit_log(
        actor=world.grid_worker,
        person=lapsed,
        summary="身体尚好",
        visited_at=moment - timedelta(days=40),
    )
    due = selectors.care_visits_due(user=world.grid_worker, moment=moment)
    assert [entry.person for entry in due] == [never, lapsed]
    assert due[1].tags == ["高龄老人"]


def test_an_enterprise_visit_can_raise_its_appeal_case(world):
    enterprise = make_enterprise(world)
    visit = services.visit_log(
        actor=world.grid_worker,
        enterprise=enterprise,
        summary="走访了解生产经营情况",
        problems="厂区门口道路破损,货车进出困难",
        raise_case=True,
    )
    assert visit.case is not None
    assert visit.case.source == Source.ENTERPRISE
    assert CaseLink.objects.filter(case=visit.case, enterprise=enterprise).exists()
    assert list(selectors.record_cases(user=world.leader, record=enterprise)) == [visit.case]


def test_a_visit_needs_a_summary_a_past_time_and_the_grid(world):
    person = make_person(world)
    with pytest.raises(DomainError, match="走访情况"):
        services.visit_log(actor=world.grid_worker, person=person, summary=" ")
    with pytest.raises(DomainError, match="晚于现在"):
        services.visit_log(
            actor=world.grid_worker,
            person=person,
            summary="正常",
            visited_at=clock.now() + timedelta(hours=1),
        )
    other = make_person(world, area=world.sibling_microgrid)
    with pytest.raises(PermissionDenied):
        services.visit_log(actor=world.grid_worker, person=other, summary="正常")
    assert not Visit.objects.exists()


def test_verification_task_lists_every_record_and_counts_progress(world):
    mine = [make_person(world) for _ in range(3)]
    make_person(world, area=world.sibling_microgrid)
    make_person(world, area=world.far_grid)
    task = services.verification_task_create(
        actor=world.community_leader,
        title="楼小通核查",
        record_kind=RecordKind.PERSON,
        areas=[world.grid, world.sibling_grid],
        due_on=clock.now().date() + timedelta(days=30),
    )
    assert task.items.count() == 4
    worklist = selectors.verification_worklist(user=world.grid_worker, task=task)
    assert {item.person for item in worklist} == set(mine)

    first = worklist.first()
    assert first is not None
    services.verification_item_check(actor=world.grid_worker, item=first, status="verified")
    with pytest.raises(DomainError, match="更正"):
        services.verification_item_check(
            actor=world.grid_worker, item=worklist.first(), status=ItemStatus.CORRECTED
        )
    progress = {
        row.area.code: (row.done, row.total)
        for row in selectors.verification_progress(user=world.community_leader, task=task)
    }
    assert progress == {world.grid.code: (1, 3), world.sibling_grid.code: (0, 1)}
    assert Person.objects.get(pk=first.person_id).verified_at is not None


def test_only_the_leaders_of_an_area_order_its_verification(world):
    with pytest.raises(PermissionDenied):
        services.verification_task_create(
            actor=world.community_leader,
            title="核查",
            record_kind=RecordKind.HOUSE,
            areas=[world.far_grid],
            due_on=clock.now().date(),
        )
    with pytest.raises(PermissionDenied):
        services.verification_task_create(
            actor=world.grid_worker,
            title="核查",
            record_kind=RecordKind.HOUSE,
            areas=[world.grid],
            due_on=clock.now().date(),
        )


def test_a_case_links_only_records_of_its_own_street(world):
    case = make_case(world)
    person = make_person(world)
    services.case_link_add(actor=world.dispatcher, case=case, record=person)
    services.case_link_add(actor=world.dispatcher, case=case, record=person)
    assert CaseLink.objects.filter(case=case).count() == 1
    stranger = make_person(world, area=world.other_grid)
    with pytest.raises(DomainError, match="本街道"):
        services.case_link_add(actor=None, case=case, record=stranger)


def test_a_reporters_phone_is_sealed_at_rest_and_clear_in_the_case(world):
    case = make_case(world, reporter_phone="13800001111")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        (stored,) = cursor.fetchone()
    assert "13800001111" not in stored
    assert protection.unseal(stored) == "13800001111"
    from shanzhi.cases.models import Case

    assert Case.objects.get(pk=case.pk).reporter_phone == "13800001111"
    assert Case.objects.filter(pk=case.pk).exclude(reporter_phone="").exists()
