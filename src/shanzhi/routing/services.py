"""Writes for routing: training a street's router on its own history, and turning a hotspot into
one source-governance task (源头治理)."""

import pickle
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area, Level
from shanzhi.cases.flows import states_of
from shanzhi.cases.models import Case, CaseAction, CaseType, Source
from shanzhi.cases.services import case_report, catalogue_seed
from shanzhi.errors import DomainError, PermissionDenied

from . import pipeline
from .hotspots import Hotspot, hotspot_by_key
from .models import RouterModel, StreetSettings
from .pipeline import Doc
from .selectors import street_settings, unit_key

SOURCE_TYPE_CODE = "YT-ZL-01"  # 源头治理专项, in the built-in catalogue
# Every fifth case (in time order) is held back to measure the router before it is kept.
HOLD_BACK_EVERY = 5
# The units that handed a case back (退回) or had it taken away (转办) were the wrong ones.
WRONG_UNIT_ACTIONS = ("return", "transfer")


class RoutingError(DomainError):
    code = "routing_refused"


@dataclass(frozen=True)
class TrainReport:
    street: Area
    cases: int
    model: RouterModel | None  # None: too little history, keywords go on speaking
    reason: str = ""


def training_cases(*, street: Area) -> list[Case]:
    """The street's finished cases with a type, oldest first; their final type and unit, after
    every correction at acceptance, transfer and return, are the truth the router learns."""
    return list(
        Case.objects.filter(
            street=street,
            case_type__isnull=False,
            case_type__is_active=True,
            state__in=states_of("closed", "resolved"),
        )
        .exclude(flow="source")
        .select_related("area")
        .order_by("reported_at", "id")
    )


def _communities(street: Area) -> dict[str, str]:
    return dict(
        Area.objects.filter(path__startswith=street.path, level=Level.COMMUNITY).values_list(
            "path", "path"
        )
    )


def _unit_weights(street: Area, cases: list[Case]) -> dict[str, dict[str, float]]:
    """(type, community) → unit → how often it finally handled such a case, less how often it
    handed one back or had it transferred away."""
    communities = _communities(street)
    community_of: dict[int, str] = {}
    weights: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(case: Case, unit_id: int, weight: float) -> None:
        assert case.case_type_id is not None  # noqa: S101 - training cases all have one
        for key in (
            unit_key(case.case_type_id, community_of[case.pk]),
            unit_key(case.case_type_id, ""),
        ):
            weights[key][str(unit_id)] += weight

    for case in cases:
        paths = [*case.area.ancestor_paths, case.area.path]
        community_of[case.pk] = next((p for p in paths if p in communities), "")
        if case.unit_id is not None:
            add(case, case.unit_id, 1.0)
    by_id = {case.pk: case for case in cases}
    wrong = CaseAction.objects.filter(
        case_id__in=list(by_id), action__in=WRONG_UNIT_ACTIONS, from_unit__isnull=False
    ).values_list("case_id", "from_unit_id")
    for case_id, unit_id in wrong:
        add(by_id[case_id], unit_id, -1.0)
    return {key: dict(units) for key, units in weights.items()}


def _docs(cases: list[Case]) -> tuple[list[Doc], list[str]]:
    return [Doc(c.title, c.description) for c in cases], [str(c.case_type_id) for c in cases]


def router_train(*, street: Area) -> TrainReport:
    """Train the street's router on its history, measure it on a held-back slice and keep it."""
    cases = training_cases(street=street)
    settings = street_settings(street=street)
    docs, labels = _docs(cases)
    if len(cases) < settings.min_training_cases:
        return TrainReport(
            street,
            len(cases),
            None,
            f"已办结事件 {len(cases)} 件,少于 {settings.min_training_cases} 件,继续按关键词推荐",
        )
    if len(pipeline.learnable(labels)) < 2:
        return TrainReport(street, len(cases), None, "事项类型不足两类,继续按关键词推荐")
    held = [i for i in range(len(cases)) if i % HOLD_BACK_EVERY == HOLD_BACK_EVERY - 1]
    kept = [i for i in range(len(cases)) if i % HOLD_BACK_EVERY != HOLD_BACK_EVERY - 1]
    accuracy = macro_f1 = None
    kept_labels = [labels[i] for i in kept]
    if len(pipeline.learnable(kept_labels)) >= 2:
        measured = pipeline.evaluate(
            ([docs[i] for i in kept], kept_labels),
            ([docs[i] for i in held], [labels[i] for i in held]),
        )
        accuracy, macro_f1 = measured.accuracy, measured.macro_f1
    router = pipeline.fit(docs, labels)
    model = RouterModel.objects.create(
        street=street,
        trained_at=clock.now(),
        cases=len(cases),
        types=len(router.classes),
        held_out=len(held) if accuracy is not None else 0,
        accuracy=accuracy,
        macro_f1=macro_f1,
        units=_unit_weights(street, cases),
        payload=pickle.dumps(router, protocol=pickle.HIGHEST_PROTOCOL),
    )
    return TrainReport(street, len(cases), model)


def routing_train() -> list[TrainReport]:
    """Retrain every street's router; the job to schedule (nightly is plenty)."""
    streets = Area.objects.filter(level=Level.STREET).order_by("path")
    return [router_train(street=street) for street in streets]


def street_settings_save(*, actor: User, settings: StreetSettings) -> StreetSettings:
    """Keep a street's routing and hotspot thresholds (checked by the model's validators)."""
    if not policy.can_manage_catalogue(actor, settings.street):
        raise PermissionDenied("无权修改该街道的分拨与源头治理设置")
    settings.full_clean()
    settings.save()
    return settings


# 源头治理 ---------------------------------------------------------------------------------------


def _describe(hotspot: Hotspot) -> str:
    count = len(hotspot.cases)
    numbers = "、".join(c.number for c in hotspot.cases[:20])
    more = f"等 {count} 件" if count > 20 else f"共 {count} 件"
    first = timezone.localdate(hotspot.cases[-1].reported_at)
    last = timezone.localdate(hotspot.cases[0].reported_at)
    return (
        f"{hotspot.place_label}在 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 间反复发生"
        f"“{hotspot.case_type.name}”问题,{more}:{numbers}。请研判成因,从源头治理。"
    )


def hotspot_adopt(*, actor: User, street: Area, key: str, moment: datetime | None = None) -> Case:
    """Turn a hotspot (as found at `moment`, default now) into one source-governance task: a case
    on the 源头治理 flow, reported now."""
    hotspot = hotspot_by_key(street=street, key=key, user=actor, moment=moment)
    if hotspot is None:
        raise RoutingError("该高发问题已不存在或不在您的辖区范围内")
    if not policy.can_adopt_hotspot(actor, hotspot.area):
        raise PermissionDenied("只有该辖区的领导可以将高发问题转为源头治理任务")
    if hotspot.task is not None:
        raise RoutingError(f"该高发问题已转为源头治理任务 {hotspot.task.number}")
    with transaction.atomic():
        case_type = CaseType.objects.filter(street=street, code=SOURCE_TYPE_CODE).first()
        if case_type is None:
            catalogue_seed(street=street)
            case_type = CaseType.objects.get(street=street, code=SOURCE_TYPE_CODE)
        task, _ = case_report(
            area=hotspot.area,
            source=Source.LEADER,
            actor=actor,
            title=f"源头治理:{hotspot.place_label}{hotspot.case_type.name}",
            description=_describe(hotspot),
            case_type=case_type,
        )
        task.extra = {**task.extra, "hotspot": hotspot.record()}
        task.save(update_fields=["extra"])
    return task
