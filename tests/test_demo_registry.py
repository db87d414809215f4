"""`shanzhi demo` fills the street's registry: at the scale's density, with valid numbers, every
record on a microgrid, visits and cases pointing at records, the same for the same seed."""

import hashlib
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from shanzhi import clock
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Source
from shanzhi.demo import cases as demo_cases
from shanzhi.demo.registry import registry_counts, tag_counts
from shanzhi.errors import DomainError
from shanzhi.protection import digest, unseal
from shanzhi.registry.models import (
    Building,
    CaseLink,
    Enterprise,
    EnterpriseScale,
    Facility,
    House,
    ItemStatus,
    LibraryEntry,
    Person,
    PersonTag,
    VerificationItem,
    Visit,
)
from shanzhi.registry.selectors import care_visits_due
from shanzhi.registry.services import mask_resident_id
from shanzhi.registry.validators import credit_code_check, resident_id_check

from .factories import Rollback

pytestmark = pytest.mark.django_db
STREET = "330109001"
SMALL = ("--scale", "small", "--seed", "5", "--year", "2025")
RECORDS = (Building, House, Person, Enterprise, Facility)


@dataclass
class Made:
    output: str
    counts: dict[str, int]
    tags: dict[str, int]
    fingerprint: str
    bad_id_numbers: list[str]
    bad_credit_codes: list[str]
    off_microgrid: dict[str, int]
    above: int
    above_visited: int
    above_visits: int
    raised: list[tuple[str, bool]]  # per visit that raised a case: its source, linked to it
    links: Counter
    foreign_links: int
    verification: Counter
    care_due: list[tuple[int, int]]  # per grid worker: persons due, persons under care
    libraries: int


def registry_fingerprint(street: Area) -> str:
    """A digest of the street's registry free of database ids, sealed values and run times."""
    rows = [
        *Building.objects.filter(street=street).values_list(
            "address", "compound", "name", "floors", "unit_count", "area__code"
        ),
        *House.objects.filter(street=street).values_list(
            "address", "use", "floor", "unit_no", "room", "floor_area", "building__address"
        ),
        *Person.objects.filter(street=street).values_list(
            "id_number_digest",
            "name",
            "birth_date",
            "sex",
            "phone_digest",
            "household_type",
            "house__address",
            "area__code",
            "verified_at",
        ),
        *PersonTag.objects.filter(person__street=street).values_list(
            "person__id_number_digest", "tag__code"
        ),
        *Enterprise.objects.filter(street=street).values_list(
            "credit_code",
            "name",
            "industry",
            "scale",
            "address",
            "contact_name",
            "contact_phone_digest",
            "employees",
            "building__address",
            "area__code",
        ),
        *LibraryEntry.objects.filter(enterprise__street=street).values_list(
            "enterprise__credit_code", "library", "entered_on", "left_on", "note"
        ),
        *Facility.objects.filter(street=street).values_list(
            "code",
            "kind",
            "name",
            "address",
            "owner",
            "enterprise__credit_code",
            "inspection_cycle_days",
            "last_inspected_on",
            "area__code",
        ),
        *Visit.objects.filter(street=street).values_list(
            "area__code",
            "visitor__username",
            "visited_at",
            "person__id_number_digest",
            "enterprise__credit_code",
            "summary",
            "problems",
        ),
        *VerificationItem.objects.filter(task__street=street).values_list(
            "person__id_number_digest", "status", "checked_by__username", "checked_at", "note"
        ),
    ]
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


def _bad_id_numbers(street: Area) -> list[str]:
    bad = []
    for sealed, digested, masked, born, sex in Person.objects.filter(street=street).values_list(
        "id_number_sealed", "id_number_digest", "id_number_masked", "birth_date", "sex"
    ):
        number = unseal(sealed)
        try:
            resident = resident_id_check(number)
        except DomainError:
            bad.append(number)
            continue
        read = (resident.number, resident.birth_date, resident.sex)
        if read != (number, born, sex) or (digest(number), mask_resident_id(number)) != (
            digested,
            masked,
        ):
            bad.append(number)
    return bad


def _bad_credit_codes(street: Area) -> list[str]:
    bad = []
    for code in Enterprise.objects.filter(street=street).values_list("credit_code", flat=True):
        try:
            credit_code_check(code)
        except DomainError:
            bad.append(code)
    return bad


def _care_due(street: Area) -> list[tuple[int, int]]:
    """For each grid worker: how many of their care persons are due a visit, and how many
    persons under care they have."""
    figures = []
    workers = User.objects.filter(grants__role="grid_worker", grants__area__street=street).order_by(
        "username"
    )
    for worker in workers:
        grid = worker.grants.get(role="grid_worker").area
        under_care = (
            Person.objects.filter(area__path__startswith=grid.path, taggings__tag__kind="care")
            .distinct()
            .count()
        )
        figures.append((len(care_visits_due(user=worker, moment=clock.now())), under_care))
    return figures


def _gather(*args: str) -> Made:
    """Run the demo in a transaction that is rolled back; what the registry tests read."""
    with suppress(Rollback), transaction.atomic():
        out = StringIO()
        call_command("demo", *args, stdout=out)
        street = Area.objects.get(code=STREET)
        above = Enterprise.objects.filter(street=street, scale=EnterpriseScale.ABOVE)
        above_visits = Visit.objects.filter(enterprise__in=above)
        links = CaseLink.objects.filter(case__street=street)
        made = Made(
            output=out.getvalue(),
            counts=registry_counts(street=street),
            tags=tag_counts(street=street),
            fingerprint=registry_fingerprint(street),
            bad_id_numbers=_bad_id_numbers(street),
            bad_credit_codes=_bad_credit_codes(street),
            off_microgrid={
                model.__name__: model.objects.filter(street=street)
                .exclude(area__level=Level.MICROGRID, area__street=street)
                .count()
                for model in RECORDS
            },
            above=above.count(),
            above_visited=above_visits.values("enterprise").distinct().count(),
            above_visits=above_visits.count(),
            raised=[
                (
                    visit.case.source,
                    CaseLink.objects.filter(
                        case=visit.case, enterprise_id=visit.enterprise_id
                    ).exists(),
                )
                for visit in Visit.objects.filter(street=street, case__isnull=False).select_related(
                    "case"
                )
            ],
            links=Counter(
                kind
                for row in links.values("person", "house", "building", "enterprise", "facility")
                for kind, pk in row.items()
                if pk is not None
            ),
            foreign_links=sum(
                links.exclude(**{f"{kind}__isnull": True})
                .exclude(**{f"{kind}__street": street})
                .count()
                for kind in ("person", "house", "building", "enterprise", "facility")
            ),
            verification=Counter(
                VerificationItem.objects.filter(task__street=street).values_list(
                    "status", flat=True
                )
            ),
            care_due=_care_due(street),
            libraries=LibraryEntry.objects.filter(enterprise__street=street).count(),
        )
        raise Rollback
    return made


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker) -> tuple[Made, Made, Made]:
    """The small demo with a short year of cases, then its registry alone twice (same seed)."""
    with django_db_blocker.unblock():
        assert not Area.objects.exists()  # an empty test database, never the real one
        # The registry is under test, not the year: a sixth of the small year's cases is enough
        # to raise and link cases through the replay.
        with pytest.MonkeyPatch.context() as patch:
            patch.setitem(demo_cases.VOLUMES, "small", 60)
            with_cases = _gather(*SMALL)
        first = _gather(*SMALL, "--no-cases")
        second = _gather(*SMALL, "--no-cases")
        assert not Person.objects.exists()
    return with_cases, first, second


def test_small_scale_lands_at_a_hundredth_of_the_street(made):
    demo, _, _ = made
    counts = demo.counts
    assert 40 <= counts["楼栋"] <= 120
    assert 550 <= counts["房屋"] <= 800
    assert 1_400 <= counts["居民"] <= 2_400
    assert 0.15 <= counts["流动人口"] / counts["居民"] <= 0.35
    assert (counts["企业"], counts["规上企业"], counts["设施"], counts["九小场所"]) == (
        30,
        2,
        100,
        23,
    )
    assert demo.libraries >= 3
    assert "已生成人房企事物登记" in demo.output and "居民 " in demo.output


def test_every_id_number_and_credit_code_is_valid(made):
    demo, _, _ = made
    assert demo.counts["居民"] > 0 and demo.bad_id_numbers == []
    assert demo.bad_credit_codes == []


def test_every_record_sits_on_a_microgrid_of_the_street(made):
    demo, _, _ = made
    assert demo.off_microgrid == {model.__name__: 0 for model in RECORDS}


def test_tags_come_at_their_share_and_sensitive_ones_as_counted(made):
    demo, _, _ = made
    persons = demo.counts["居民"]
    assert 0.008 <= demo.tags["独居老人"] / persons <= 0.03
    assert demo.tags["高龄老人"] > 0 and demo.tags["空巢老人"] > 0 and demo.tags["残疾人"] > 0
    assert (demo.tags["社区矫正"], demo.tags["安置帮教"], demo.tags["重点人员"]) == (2, 2, 2)
    assert 0.03 <= demo.tags["党员"] / persons <= 0.15


def test_large_enterprises_are_visited_and_their_problems_became_linked_cases(made):
    demo, _, _ = made
    assert demo.above_visited == demo.above == 2
    assert demo.above_visits >= 6
    assert demo.raised, "no visit raised a case"
    assert all(source == Source.ENTERPRISE and linked for source, linked in demo.raised)


def test_cases_point_at_records_of_their_own_street(made):
    demo, _, _ = made
    assert sum(demo.links.values()) > len(demo.raised)
    assert {"building", "person"} <= set(demo.links)
    assert demo.foreign_links == 0
    assert "条登记记录" in demo.output


def test_care_visits_leave_only_the_lapsed_few_due(made):
    demo, _, _ = made
    due = sum(d for d, _ in demo.care_due)
    under_care = sum(n for _, n in demo.care_due)
    assert under_care > 0
    assert due <= 0.1 * under_care


def test_the_verification_task_is_mostly_checked(made):
    demo, _, _ = made
    total = sum(demo.verification.values())
    assert total > 0
    assert demo.verification[ItemStatus.PENDING] <= 0.05 * total
    assert demo.verification[ItemStatus.CORRECTED] > 0


def test_the_same_seed_gives_the_same_registry(made):
    demo, first, second = made
    assert first.fingerprint == second.fingerprint
    assert first.counts == second.counts
    # Without cases the problems found on visits are kept as visits, not raised.
    assert first.raised == []
    assert first.counts["走访"] == demo.counts["走访"]


def test_no_registry_leaves_the_registry_empty():
    out = StringIO()
    call_command("demo", *SMALL, "--no-registry", "--no-cases", stdout=out)
    assert not Person.objects.exists() and not Visit.objects.exists()
    assert "人房企事物" not in out.getvalue()
