"""Random walks through any flow, made from its declaration alone.

Each step picks a transition the case's state offers (sometimes one it does not, or the wrong
actor), makes its inputs from the inputs the transition declares, and takes it through the real
service. Used by the property test of the flows and by the roll-up's randomised comparison, so
that both cover every flow without a line written per flow.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from shanzhi import clock
from shanzhi.accounts.models import Unit
from shanzhi.cases import services
from shanzhi.cases.flows import FLOWS, flow_of
from shanzhi.cases.flows.spec import Input, InputKind, Kind, TransitionSpec
from shanzhi.cases.models import Case, CaseType, Source
from shanzhi.errors import DomainError

from .case_factories import case_type, photo, police
from .registry_factories import make_enterprise

# A type of each flow, for reports and acceptances.
TYPES_BY_FLOW = {
    "general": ("CG-SZ-01", "CG-SR-01", "ZA-DJ-01"),
    "hazard": ("AQ-XF-03", "AQ-SC-01"),
    "petition": ("XF-CF-01",),
    "dispute": ("MD-LL-01",),
    "enterprise": ("QY-ZC-01",),
    "source": ("YT-ZL-01",),
}
WEIGHTS = {Kind.OPEN: 4, Kind.RESOLVED: 4, Kind.CLOSED: 2, Kind.REJECTED: 0.4, Kind.MERGED: 0.4}
# Date inputs that record what happened (not after today); every other date is a deadline ahead.
PAST_DATES = frozenset({"served_on", "session_on", "confirmed_on"})


@dataclass
class Walk:
    """One attempted step: what was tried, by whom, and whether the engine took it."""

    action: str
    actor: str
    permitted: bool
    taken: bool
    refusal: str = ""


@dataclass
class Walker:
    world: Any
    rng: random.Random
    pool: list[Case] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.units = [police(self.world), Unit.objects.get(name="湘湖社区居委会")]
        self.enterprise = make_enterprise(self.world)

    # People --------------------------------------------------------------------------------

    def actor(self, case: Case, kind: str) -> Any:
        """A persona of the world who is of actor `kind` for this case (None: the system)."""
        w = self.world
        if kind == "system":
            return None
        if kind == "dispatcher":
            return w.dispatcher
        if kind == "leader":
            return w.leader
        if kind in ("unit_handler", "escalator"):
            if case.unit_id == police(w).pk:
                return w.handler
            return w.community_worker
        return w.grid_worker

    def type_of(self, flow: str) -> CaseType:
        return case_type(self.world, self.rng.choice(TYPES_BY_FLOW[flow]))

    # Inputs --------------------------------------------------------------------------------

    def value(self, case: Case, transition: TransitionSpec, spec: Input) -> Any:
        rng, today = self.rng, timezone.localdate(clock.now())
        kind = spec.kind
        if kind == InputKind.TEXT:
            return spec.label[: spec.max_length]
        if kind == InputKind.LONGTEXT:
            return f"{spec.label}:随机填写的内容"
        if kind == InputKind.CHOICE:
            return rng.choice(spec.choice_values)
        if kind == InputKind.DATE:
            return today if spec.name in PAST_DATES else today + timedelta(days=rng.randint(1, 40))
        if kind == InputKind.DATETIME:
            base = case.handle_due_at or clock.now()
            return base + timedelta(days=rng.randint(1, 9))
        if kind == InputKind.NUMBER:
            low = int(spec.minimum or 1)
            high = int(spec.maximum or 50)
            return Decimal(rng.randint(low, high))
        if kind == InputKind.LINES:
            return ["甲方 张三", "乙方 李四"]
        if kind == InputKind.UNIT:
            return rng.choice(self.units)
        if kind == InputKind.CASE_TYPE:
            if transition.action == "resolve_on_spot":
                return self.type_of("general")
            return self.type_of(rng.choice(list(TYPES_BY_FLOW)))
        if kind == InputKind.AREA:
            return case.area
        if kind == InputKind.CASE:
            return rng.choice(self.pool) if self.pool else case
        if kind == InputKind.RECORD:
            return self.enterprise if "enterprise" in spec.choice_values else None
        return [photo()]

    def inputs(self, case: Case, transition: TransitionSpec) -> tuple[dict[str, Any], list[Any]]:
        values: dict[str, Any] = {}
        photos: list[Any] = []
        for spec in transition.inputs:
            value = self.value(case, transition, spec)
            if spec.kind == InputKind.PHOTOS:
                photos = value
            elif value is not None and (spec.required or self.rng.random() < 0.7):
                values[spec.name] = value
        if values.get("signature") == "refused":
            values["refusal"] = "被检查单位负责人拒绝签字,已在记录中注明"
        return values, photos

    # Steps ---------------------------------------------------------------------------------

    def report(self, *, flow: str | None = None, area: Any = None) -> Case:
        """A new report: typed at intake when `flow` is given (a patrol's hazard, a petition
        registered at the desk), untyped otherwise."""
        w = self.world
        typed = self.type_of(flow) if flow else None
        source = Source.GRID_PATROL if flow == "hazard" else Source.HOTLINE
        case, _ = services.case_report(
            area=area or w.microgrid,
            source=source,
            actor=w.grid_worker if source == Source.GRID_PATROL else w.dispatcher,
            description=f"{flow or '未分类'}的随机上报{self.rng.random():.6f}",
            reporter_phone=self.rng.choice(["", "13800001111"]),
            case_type=typed,
        )
        return case

    def step(self, case: Case, *, stray: float = 0.0) -> tuple[Case, Walk]:
        """Try one transition: usually one the state offers, by an actor it names; with
        probability `stray`, any transition of any flow, or a wrong actor."""
        rng = self.rng
        flow = flow_of(case)
        offered = [t for t in flow.leaving(case.state) if t.offered]
        if rng.random() < stray or not offered:
            every = [t for f in FLOWS.values() for t in f.transitions if t.offered]
            transition = rng.choice(every)
            kind = rng.choice(["dispatcher", "leader", "unit_handler", "grid_worker"])
        else:
            # Steps that move the case on come up more often, and the dead ends (merge, refuse)
            # less, so that walks get far into the flow.
            weights = [WEIGHTS[flow.state(t.target).kind] if t.target else 1 for t in offered]
            transition = rng.choices(offered, weights=weights)[0]
            kinds = sorted(transition.who - {"system"}) or ["system"]
            kind = rng.choice(kinds)
        actor = self.actor(case, kind)
        values, photos = self.inputs(case, transition)
        permitted = transition in offered and kind in transition.who
        try:
            done = services.case_act(
                case=case,
                actor=actor,
                action=transition.action,
                expected_version=case.version,
                photos=photos,
                **values,
            )
        except DomainError as exc:
            case.refresh_from_db()
            return case, Walk(transition.action, kind, permitted, False, exc.message)
        if done.state in ("reported", "accepted") and done not in self.pool:
            self.pool.append(done)
        return done, Walk(transition.action, kind, permitted, True)
