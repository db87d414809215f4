"""QR posters for buildings: one building's sheet, or a whole community's, one sheet a building.

Each sheet's code opens the report page of the building's microgrid (`/r/<code>/`), so a report
from the poster already knows its place; the sheet names the building in large type.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from shanzhi import policy
from shanzhi.areas.models import Area, Level
from shanzhi.areas.selectors import area_ancestors
from shanzhi.errors import NotFound
from shanzhi.registry.models import Building

# One print run: a community of a few hundred buildings fits; bigger ones print by grid.
MAX_SHEETS = 800
POSTER_LEVELS = (Level.COMMUNITY, Level.GRID, Level.DEDICATED_GRID, Level.MICROGRID)


def _sheet(request: HttpRequest, building: Building, trail: list[str]) -> dict[str, object]:
    report = reverse("public_report", args=[building.area.code])
    return {"building": building, "trail": trail, "report_url": request.build_absolute_uri(report)}


def _trail(area: Area) -> list[str]:
    levels = (Level.STREET, Level.COMMUNITY, Level.GRID)
    return [a.name for a in area_ancestors(area=area) if a.level in levels]


@login_required
@require_GET
def building_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """/qr/building/<pk>/: the poster of one building, from its registry page."""
    try:
        building = policy.record_for(request.user, Building, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    sheets = [_sheet(request, building, _trail(building.area))]
    context = {"title": building.address, "sheets": sheets, "back": building.area}
    return render(request, "web/posters/sheets.html", context)


@login_required
@require_GET
def area_posters(request: HttpRequest, code: str) -> HttpResponse:
    """/qr/<code>/buildings/: every building of a community (or grid), one sheet each, to print."""
    try:
        area = policy.area_for(request.user, code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if area.level not in POSTER_LEVELS:
        raise Http404("楼栋二维码按社区、网格或微网格打印")
    buildings = list(
        policy.records_visible_to(request.user, Building)
        .filter(area__path__startswith=area.path)
        .select_related("area")
        .order_by("compound", "name", "address")[: MAX_SHEETS + 1]
    )
    trails: dict[int, list[str]] = {}
    sheets = []
    for building in buildings[:MAX_SHEETS]:
        if building.area_id not in trails:
            trails[building.area_id] = _trail(building.area)
        sheets.append(_sheet(request, building, trails[building.area_id]))
    context = {
        "title": f"{area.name}楼栋二维码",
        "sheets": sheets,
        "back": area,
        "cut": len(buildings) > MAX_SHEETS,
        "max_sheets": MAX_SHEETS,
    }
    return render(request, "web/posters/sheets.html", context)
