"""Recurring problems (高发问题), found in the cases as they stand: reads only.

Two ways a problem recurs. By place: cases of the same type at the same building, 小区 or
microgrid, or within the street's distance of each other where coordinates exist, reaching the
street's count within its window. By text: messages alike enough (character-bigram TF-IDF
cosine) over a longer window, whatever type and place they were filed under, which catches the
same restaurant or building site told in different words across months.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from sklearn.feature_extraction.text import TfidfVectorizer

from shanzhi import clock, policy
from shanzhi.areas.models import Area, Level
from shanzhi.cases.flows import states_of
from shanzhi.cases.models import Case, CaseClock, CaseType
from shanzhi.registry.models import CaseLink

from .models import StreetSettings
from .selectors import street_settings

SOURCE_FLOW = "source"
QUIET_CLOCK = "quiet"
PLACE_LABELS = {
    "building": "楼栋",
    "compound": "小区",
    "microgrid": "微网格",
    "nearby": "附近",
    "text": "相似诉求",
}
# More cases than this in a text window are compared newest first; older ones wait.
TEXT_LIMIT = 3000
EARTH_M = 6_371_000


@dataclass
class Hotspot:
    key: str
    kind: str  # a key of PLACE_LABELS
    case_type: CaseType
    place_label: str
    place_id: str  # building id, 小区 name, area id, or "lat,lon" of the centre
    area: Area  # where the task goes: the area most of the cases lie in
    cases: list[Case]  # newest first
    task: Case | None = None  # the source-governance task it was turned into
    radius_m: int = 0

    @property
    def kind_label(self) -> str:
        return PLACE_LABELS[self.kind]

    def record(self) -> dict[str, Any]:
        """What the task keeps of its hotspot: enough to check the place for new cases."""
        return {
            "key": self.key,
            "kind": self.kind,
            "case_type_id": self.case_type.pk,
            "place_id": self.place_id,
            "place_label": self.place_label,
            "radius_m": self.radius_m,
            "cases": [case.number for case in self.cases],
        }


def _counted(street: Area) -> QuerySet[Case]:
    """The cases that count: real reports, neither rejected nor merged, not tasks themselves."""
    return (
        Case.objects.filter(street=street)
        .exclude(flow=SOURCE_FLOW)
        .exclude(state__in=states_of("rejected", "merged"))
    )


def _buildings(case_ids: Iterable[int]) -> dict[int, tuple[int, str, str]]:
    """case id → (building id, address, 小区) through the case's link to a building or a house."""
    found: dict[int, tuple[int, str, str]] = {}
    rows = CaseLink.objects.filter(case_id__in=list(case_ids)).filter(
        Q(building__isnull=False) | Q(house__isnull=False)
    )
    for row in rows.values_list(
        "case_id",
        "building_id",
        "building__address",
        "building__compound",
        "house__building_id",
        "house__building__address",
        "house__building__compound",
    ):
        case_id, b_id, b_addr, b_comp, h_id, h_addr, h_comp = row
        if b_id is not None:
            found.setdefault(case_id, (b_id, b_addr, b_comp or ""))
        elif h_id is not None:
            found.setdefault(case_id, (h_id, h_addr, h_comp or ""))
    return found


def _metres(a: Case, b: Case) -> float:
    lat1, lon1 = math.radians(float(a.latitude or 0)), math.radians(float(a.longitude or 0))
    lat2, lon2 = math.radians(float(b.latitude or 0)), math.radians(float(b.longitude or 0))
    x = (lon2 - lon1) * math.cos((lat1 + lat2) / 2)
    return EARTH_M * math.hypot(x, lat2 - lat1)


def _main_area(cases: list[Case]) -> Area:
    counts = Counter(case.area_id for case in cases)
    top = counts.most_common(1)[0][0]
    return next(case.area for case in cases if case.area_id == top)


def _nearby_groups(cases: list[Case], radius: float, least: int) -> list[list[Case]]:
    """Greedy clusters: the case with most neighbours within `radius` and those neighbours."""
    placed = [c for c in cases if c.latitude is not None and c.longitude is not None]
    taken: set[int] = set()
    groups = []
    near = {c.pk: [o for o in placed if _metres(c, o) <= radius] for c in placed}
    for seed in sorted(placed, key=lambda c: (-len(near[c.pk]), c.pk)):
        if seed.pk in taken:
            continue
        group = [o for o in near[seed.pk] if o.pk not in taken]
        if len(group) >= least:
            groups.append(group)
            taken.update(o.pk for o in group)
    return groups


def _place_groups(
    cases: list[Case], settings: StreetSettings
) -> list[tuple[str, str, str, list[Case], int]]:
    """(kind, place id, label, cases, radius) for every place with enough cases of one type."""
    buildings = _buildings(c.pk for c in cases)
    keyed: dict[tuple[str, str], tuple[str, list[Case]]] = {}
    for case in cases:
        places = []
        if case.pk in buildings:
            b_id, address, compound = buildings[case.pk]
            places.append(("building", str(b_id), address))
            if compound:
                places.append(("compound", compound, compound))
        if case.area.level == Level.MICROGRID:
            places.append(("microgrid", str(case.area_id), case.area.name))
        for kind, place_id, label in places:
            keyed.setdefault((kind, place_id), (label, []))[1].append(case)
    least = settings.hotspot_min_cases
    found = [
        (kind, place_id, label, group, 0)
        for (kind, place_id), (label, group) in keyed.items()
        if len(group) >= least
    ]
    for group in _nearby_groups(cases, settings.hotspot_radius_m, least):
        centre = group[0]
        label = centre.address or centre.area.name
        found.append(
            (
                "nearby",
                f"{centre.latitude},{centre.longitude}",
                f"{label}附近{settings.hotspot_radius_m}米内",
                group,
                settings.hotspot_radius_m,
            )
        )
    return found


def _text_groups(cases: list[Case], settings: StreetSettings) -> list[list[Case]]:
    """Groups of messages alike enough, joined transitively (A~B and B~C put A, B, C together)."""
    if len(cases) < settings.hotspot_min_cases:
        return []
    texts = [f"{c.title}\n{c.description}" for c in cases]
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit_transform(texts)
    similar = (vectors @ vectors.T).tocoo()
    parent = list(range(len(cases)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, value in zip(similar.row, similar.col, similar.data, strict=True):
        if i < j and value >= settings.similar_threshold:
            parent[root(int(i))] = root(int(j))
    members: dict[int, list[Case]] = defaultdict(list)
    for i, case in enumerate(cases):
        members[root(i)].append(case)
    return [g for g in members.values() if len(g) >= settings.hotspot_min_cases]


def _tasks(street: Area) -> list[Case]:
    return list(Case.objects.filter(street=street, flow=SOURCE_FLOW).order_by("-reported_at"))


def _task_for(tasks: list[Case], key: str, numbers: set[str]) -> Case | None:
    """The task already made of this hotspot: by its key, or sharing its cases; a closed task
    counts only for the cases it had, so a problem that came back shows again."""
    for task in tasks:
        record = task.extra.get("hotspot") or {}
        if set(record.get("cases", ())) & numbers:
            return task
        if record.get("key") == key and task.state not in states_of("closed"):
            return task
    return None


def hotspots_find(
    *, street: Area, user: Any = None, moment: datetime | None = None
) -> list[Hotspot]:
    """The street's recurring problems now, biggest first; with a user, only in their scope."""
    moment = moment or clock.now()
    settings = street_settings(street=street)
    counted = _counted(street)
    if user is not None:
        counted = counted.filter(pk__in=policy.cases_visible_to(user).values("pk"))
    recent = list(
        counted.filter(
            case_type__isnull=False,
            reported_at__gte=moment - timedelta(days=settings.hotspot_window_days),
            reported_at__lte=moment,
        )
        .select_related("area", "case_type")
        .order_by("-reported_at", "-id")
    )
    by_type: dict[int, list[Case]] = defaultdict(list)
    for case in recent:
        assert case.case_type_id is not None  # noqa: S101 - filtered above
        by_type[case.case_type_id].append(case)
    tasks = _tasks(street)
    found: list[Hotspot] = []
    seen: set[frozenset[int]] = set()
    for type_cases in by_type.values():
        case_type = type_cases[0].case_type
        assert case_type is not None  # noqa: S101 - filtered above
        for kind, place_id, label, group, radius in _place_groups(type_cases, settings):
            ids = frozenset(c.pk for c in group)
            if ids in seen:  # the same cases found again at a wider place
                continue
            seen.add(ids)
            key = f"{kind}:{case_type.pk}:{place_id}"
            found.append(
                Hotspot(
                    key=key,
                    kind=kind,
                    case_type=case_type,
                    place_label=label,
                    place_id=place_id,
                    area=_main_area(group),
                    cases=group,
                    task=_task_for(tasks, key, {c.number for c in group}),
                    radius_m=radius,
                )
            )
    text_window = list(
        counted.filter(
            reported_at__gte=moment - timedelta(days=settings.similar_window_days),
            reported_at__lte=moment,
        )
        .select_related("area", "case_type")
        .order_by("-reported_at", "-id")[:TEXT_LIMIT]
    )
    for group in _text_groups(text_window, settings):
        ids = frozenset(c.pk for c in group)
        typed = [c for c in group if c.case_type is not None]
        if ids in seen or not typed:
            continue
        seen.add(ids)
        case_type = Counter(c.case_type for c in typed).most_common(1)[0][0]
        assert case_type is not None  # noqa: S101 - typed cases only
        area = _main_area(group)
        key = f"text:{case_type.pk}:{min(ids)}"
        found.append(
            Hotspot(
                key=key,
                kind="text",
                case_type=case_type,
                place_label=f"{area.name}(相似诉求)",
                place_id=str(area.pk),
                area=area,
                cases=group,
                task=_task_for(tasks, key, {c.number for c in group}),
            )
        )
    found.sort(key=lambda h: (-len(h.cases), h.key))
    return found


def hotspot_by_key(
    *, street: Area, key: str, user: Any = None, moment: datetime | None = None
) -> Hotspot | None:
    found = hotspots_find(street=street, user=user, moment=moment)
    return next((h for h in found if h.key == key), None)


def _at_place(cases: QuerySet[Case], record: dict[str, Any]) -> list[Case]:
    kind, place_id = record.get("kind"), str(record.get("place_id", ""))
    if kind == "building":
        return list(
            cases.filter(
                Q(registry_links__building_id=place_id)
                | Q(registry_links__house__building_id=place_id)
            ).distinct()
        )
    if kind == "compound":
        return list(
            cases.filter(
                Q(registry_links__building__compound=place_id)
                | Q(registry_links__house__building__compound=place_id)
            ).distinct()
        )
    if kind in ("microgrid", "text"):
        area = Area.objects.filter(pk=place_id).first()
        return list(cases.filter(area__path__startswith=area.path)) if area else []
    if kind == "nearby":
        lat, lon = (float(v) for v in place_id.split(","))
        centre = Case(latitude=lat, longitude=lon)
        radius = float(record.get("radius_m") or 0)
        return [
            c
            for c in cases.filter(latitude__isnull=False, longitude__isnull=False)
            if _metres(centre, c) <= radius
        ]
    return []


def recurrences(*, task: Case) -> list[Case]:
    """Cases of the task's kind that came from its place since its quiet period began."""
    record = task.extra.get("hotspot") or {}
    started = (
        CaseClock.objects.filter(case=task, name=QUIET_CLOCK)
        .values_list("started_at", flat=True)
        .first()
    )
    since = started or task.reported_at
    cases = _counted(task.street).filter(
        case_type_id=record.get("case_type_id"), reported_at__gte=since
    )
    return _at_place(cases, record)
