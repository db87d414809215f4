"""Reads for routing: a street's settings, its router's status, and the suggestions for a text.

A suggestion is the router's when the street has a trained one, else the catalogue's keywords';
each says which spoke. The fitted router is unpickled once per process and model row, then kept
in memory, so that a suggestion costs one small query and one prediction.
"""

import pickle
import threading
from dataclasses import dataclass
from typing import Any

from shanzhi.accounts.models import Unit
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import CaseType
from shanzhi.cases.services import routing_suggest, unit_for

from .models import RouterModel, StreetSettings
from .pipeline import Doc, Router

MODEL = "模型"
KEYWORDS = "关键词"


def street_settings(*, street: Area) -> StreetSettings:
    """The street's settings, or the defaults (unsaved) while it has none."""
    found = StreetSettings.objects.filter(street=street).first()
    return found if found is not None else StreetSettings(street=street)


def router_latest(*, street: Area) -> RouterModel | None:
    """The newest training run of the street (without its bytes)."""
    return RouterModel.objects.filter(street=street).defer("payload").first()


@dataclass(frozen=True)
class Loaded:
    model_id: int
    router: Router
    weights: dict[str, dict[str, float]]  # RouterModel.units
    units: dict[int, Unit]  # every unit the weights name, read once with the model


_loaded: dict[int, Loaded] = {}
_lock = threading.Lock()


def _router_for(street: Area) -> Loaded | None:
    latest = RouterModel.objects.filter(street=street).values_list("pk", flat=True).first()
    if latest is None:
        return None
    held = _loaded.get(street.pk)
    if held is not None and held.model_id == latest:
        return held
    with _lock:
        row = RouterModel.objects.get(pk=latest)
        router = pickle.loads(bytes(row.payload))  # noqa: S301 - our own training's output
        named = {int(unit_id) for units in row.units.values() for unit_id in units}
        held = Loaded(
            model_id=row.pk,
            router=router,
            weights=row.units,
            units=Unit.objects.filter(is_active=True).in_bulk(named),
        )
        _loaded[street.pk] = held
    return held


@dataclass(frozen=True)
class Suggestion:
    case_type: CaseType
    unit: Unit | None
    confidence: float | None  # the router's calibrated probability; None for keywords
    source: str  # MODEL or KEYWORDS
    matched: tuple[str, ...] = ()  # the keywords found, for a keyword suggestion
    preselect: bool = False  # confident enough for the street to choose it beforehand

    @property
    def percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)


def community_path(area: Area) -> str:
    """The path of the community the area lies in ("" above community level)."""
    if area.level == Level.COMMUNITY:
        return area.path
    paths = area.ancestor_paths
    found = (
        Area.objects.filter(path__in=paths, level=Level.COMMUNITY)
        .values_list("path", flat=True)
        .first()
    )
    return found or ""


def unit_key(type_id: int, community: str) -> str:
    return f"{type_id}|{community}"


def _learnt_unit(loaded: Loaded, case_type: CaseType, community: str | None) -> Unit | None:
    """The unit that, in the street's history, finally handled this type in this community
    (or, failing that, anywhere in the street); None when none is known or it is inactive."""
    keys = [unit_key(case_type.pk, "")]
    if community is not None:
        keys.insert(0, unit_key(case_type.pk, community))
    for key in keys:
        weights = loaded.weights.get(key)
        if weights:
            unit_id, weight = max(weights.items(), key=lambda kv: (kv[1], -int(kv[0])))
            if weight > 0:
                return loaded.units.get(int(unit_id))
    return None


def suggestions_for(
    *, street: Area, text: str, title: str = "", area: Area | None = None, limit: int = 3
) -> list[Suggestion]:
    """The likeliest case types for a message, with the unit each would go to."""
    loaded = _router_for(street)
    if loaded is None:
        return _keyword_suggestions(street=street, text=f"{title}\n{text}", area=area, limit=limit)
    threshold = street_settings(street=street).preselect_confidence
    ranked = loaded.router.top(Doc(title, text), k=limit + 2)
    types = CaseType.objects.filter(
        street=street, is_active=True, pk__in=[int(label) for label, _ in ranked]
    ).select_related("default_unit")
    by_id = {t.pk: t for t in types}
    rows = [(by_id[int(label)], p) for label, p in ranked if int(label) in by_id][:limit]
    community = community_path(area) if area is not None else None
    out = []
    for i, (case_type, p) in enumerate(rows):
        unit = _learnt_unit(loaded, case_type, community)
        if unit is None:
            unit = unit_for(case_type=case_type, area=area) if area else case_type.default_unit
        out.append(
            Suggestion(
                case_type=case_type,
                unit=unit,
                confidence=p,
                source=MODEL,
                preselect=i == 0 and p >= threshold,
            )
        )
    return out


def _keyword_suggestions(
    *, street: Area, text: str, area: Area | None, limit: int
) -> list[Suggestion]:
    return [
        Suggestion(
            case_type=s.case_type,
            unit=s.unit,
            confidence=None,
            source=KEYWORDS,
            matched=s.matched,
        )
        for s in routing_suggest(street=street, text=text, area=area, limit=limit)
    ]


def routing_status(*, street: Area) -> dict[str, Any]:
    """What `shanzhi routing status` tells of a street."""
    latest = router_latest(street=street)
    settings = street_settings(street=street)
    return {
        "street": street,
        "model": latest,
        "speaks": MODEL if latest is not None else KEYWORDS,
        "min_training_cases": settings.min_training_cases,
        "preselect_confidence": settings.preselect_confidence,
    }
