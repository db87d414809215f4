"""Drive a case to a given state through the real services, for tests of what comes next."""

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shanzhi import clock
from shanzhi.accounts.models import Unit
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseType, Source, State


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def case_type(world, code: str = "WY-SS-01") -> CaseType:
    if not CaseType.objects.filter(street=world.street).exists():
        services.catalogue_seed(street=world.street)
    return CaseType.objects.get(street=world.street, code=code)


def police(world) -> Unit:
    return Unit.objects.get(name="城厢派出所")


def make_case(world, state: str = State.REPORTED, *, area=None, text: str = "", **report) -> Case:
    """A resident's report on the world's microgrid, taken as far as `state`."""
    case, _ = services.case_report(
        area=area or world.microgrid,
        source=report.pop("source", Source.RESIDENT),
        description=text or "3号楼楼道里有电瓶车在充电,很危险",
        reporter_phone=report.pop("reporter_phone", "13800001111"),
        **report,
    )
    steps = [
        (
            State.ACCEPTED,
            lambda c: services.case_accept(
                case=c, actor=world.dispatcher, case_type=case_type(world)
            ),
        ),
        (
            State.DISPATCHED,
            lambda c: services.case_dispatch(case=c, actor=world.dispatcher, unit=police(world)),
        ),
        (State.IN_PROGRESS, lambda c: services.case_claim(case=c, actor=world.handler)),
        (
            State.RESOLVED,
            lambda c: services.case_resolve(
                case=c, actor=world.handler, result="已劝离并清理", evidence="现场已清理"
            ),
        ),
        (
            State.ARCHIVED,
            lambda c: services.case_callback(
                case=c, actor=world.dispatcher, satisfaction="satisfied"
            ),
        ),
    ]
    for reached, step in steps:
        if case.state == state:
            break
        case = step(case)
        assert case.state == reached
    return case


def in_the_past(days: int):
    return clock.acting_at(clock.now() - timedelta(days=days))
