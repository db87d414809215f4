"""源头治理: a recurring problem (the same kind of matter at the same place, again and again)
taken up as one task at its source: analysis of the cause → measures by a lead unit → a quiet
period of review; the sweep signs it off only if no new case of that kind came from that place
during the whole period, and sends it back to measures if one did (三源治理, 回头看)."""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Q

from shanzhi import clock

from . import common as c
from .spec import (
    Branch,
    ClockSpec,
    Expiry,
    Flow,
    Guard,
    Input,
    InputKind,
    Kind,
    Queue,
    StateSpec,
    Step,
    Tell,
    TransitionSpec,
    Wait,
    start,
    stop,
)

if TYPE_CHECKING:
    from shanzhi.cases.models import Case

ANALYSIS = Queue("source_analysis", "源头治理待研判")
MEASURES = Queue("source_measures", "源头治理落实中")
QUIET = "quiet"


def _review_until(step: Step) -> None:
    """The quiet period the street sets, counted from now."""
    from shanzhi.routing.selectors import street_settings

    days = street_settings(street=step.case.street).review_days
    step.values["quiet_until"] = step.moment + timedelta(days=days)
    step.data["quiet_days"] = days


def _quiet_over(case: "Case") -> bool:
    from shanzhi.cases.models import CaseClock

    return CaseClock.objects.filter(
        case=case, name=QUIET, stopped_at__isnull=True, due_at__lte=clock.now()
    ).exists()


QUIET_OVER = Guard(
    label="观察期已届满",
    refusal="观察期尚未届满,届满后方可销号",
    test=_quiet_over,
    q=lambda: Q(
        clocks__name=QUIET, clocks__stopped_at__isnull=True, clocks__due_at__lte=clock.now()
    ),
)


def _look_back(step: Step) -> None:
    """回头看: the cases of the hotspot's kind from its place since the quiet period began. None
    signs the task off; any sends it back (the branch below reads what this finds)."""
    from shanzhi.routing.hotspots import recurrences

    found = recurrences(task=step.case)
    step.data["recurred"] = [case.number for case in found]
    if not found:
        step.case.archived_at = step.moment


def _recurred(step: Step) -> bool:
    return bool(step.data["recurred"])


FLOW = Flow(
    key="source",
    label="源头治理",
    summary=(
        "同一地点反复发生的同类问题(高发问题)由领导转为一项源头治理任务:研判成因并指定牵头单位"
        " → 牵头单位落实治理措施 → 进入观察期;观察期内该地点不再发生同类事件的,系统自动销号,"
        "又发生的,退回继续落实措施。"
    ),
    initial="analysis",
    states=(
        StateSpec(
            "analysis",
            "研判成因",
            public="正在研判成因",
            waits=(Wait("leader", ANALYSIS),),
        ),
        StateSpec(
            "measures",
            "落实措施",
            public="正在落实治理措施",
            waits=(Wait("unit_handler", MEASURES),),
        ),
        StateSpec("review", "观察回访", public="治理措施已落实,观察中", clocks=(QUIET,)),
        StateSpec("closed", "已销号", Kind.CLOSED),
    ),
    clocks=(
        ClockSpec(
            QUIET,
            "观察期",
            None,
            expiry=Expiry("quiet_check"),
            basis="街道设定的源头治理观察期",
        ),
    ),
    transitions=(
        TransitionSpec(
            "analyse",
            "研判交办",
            ("analysis",),
            "measures",
            c.DISPATCHERS_AND_LEADERS,
            inputs=(Input("cause", InputKind.LONGTEXT, "成因分析"), c.UNIT, c.NOTE),
            assigns="unit",
            check=c.check_unit,
            tell=Tell(("unit",), "源头治理任务交办"),
            public="已研判并交牵头单位",
        ),
        TransitionSpec(
            "measures_done",
            "措施落实",
            ("measures",),
            "review",
            c.UNIT_HANDLERS | c.DISPATCHERS_AND_LEADERS,
            inputs=(Input("measures", InputKind.LONGTEXT, "治理措施"),),
            resolution="measures",
            effect=_review_until,
            derives=("quiet_until",),
            clocks=(start(QUIET, due="quiet_until"),),
            tell=Tell(("leaders",), "源头治理措施已落实,进入观察期"),
            public="治理措施已落实,进入观察期",
            public_note=True,
        ),
        TransitionSpec(
            "quiet_check",
            "观察期届满",
            ("review",),
            "closed",
            frozenset({"leader", "system"}),
            guard=QUIET_OVER,
            effect=_look_back,
            branches=(Branch("measures", "观察期内又发生同类事件的,退回落实措施", _recurred),),
            clocks=(stop(QUIET),),
            tell=Tell(("leaders", "unit"), "源头治理观察期届满"),
            public="观察期届满",
            summary=(
                "观察期届满时由系统巡检执行(领导也可在届满后执行):其间该地点未再发生同类事件的"
                "销号,否则退回。"
            ),
        ),
        c.supervise_step(("analysis", "measures", "review")),
    ),
)
