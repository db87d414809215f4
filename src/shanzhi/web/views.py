"""Pages: each view translates a request into selector calls and renders; nothing decides here."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shanzhi import policy
from shanzhi.accounts.models import Role
from shanzhi.accounts.selectors import staff_by_area
from shanzhi.areas.models import Area, Level
from shanzhi.areas.selectors import (
    area_ancestors,
    area_children,
    area_level_counts,
    areas_with_child_counts,
)
from shanzhi.errors import NotFound
from shanzhi.registry.selectors import place_search as place_search_in

from .place_picker import PLACE_SCOPES


def _tree_rows(areas: Iterable[Area]) -> list[dict[str, Any]]:
    nodes = list(areas)
    staff = staff_by_area(areas=nodes)
    return [{"area": area, "staff": staff.get(area.pk, [])} for area in nodes]


def _area_or_404(request: HttpRequest, code: str) -> Area:
    try:
        return policy.area_for(request.user, code)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def area_tree_context(request: HttpRequest) -> dict[str, Any]:
    """The roots of the user's scope, for the area tree (我的辖区)."""
    roots = policy.scope_roots(request.user)
    root_ids = [root.pk for root in roots]
    rows = _tree_rows(areas_with_child_counts(areas=Area.objects.filter(pk__in=root_ids)))
    role_labels = [Role(role).label for role in policy.roles_of(request.user)]
    return {"rows": rows, "role_labels": role_labels}


@login_required
@require_GET
def area_tree(request: HttpRequest) -> HttpResponse:
    """/areas/: the part of the grid the user works in, expanded level by level."""
    return render(request, "web/home.html", area_tree_context(request))


@login_required
@require_GET
def area_children_fragment(request: HttpRequest, code: str) -> HttpResponse:
    area = _area_or_404(request, code)
    return render(request, "web/_tree_rows.html", {"rows": _tree_rows(area_children(area=area))})


@login_required
@require_GET
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = _area_or_404(request, code)
    ancestors = [a for a in area_ancestors(area=area) if policy.can_view_area(request.user, a)]
    staff = staff_by_area(areas=[area]).get(area.pk, [])
    counts = area_level_counts(area=area)
    context = {
        "area": area,
        "ancestors": ancestors,
        "rows": _tree_rows(area_children(area=area)),
        "level_counts": [
            (Level(level).label, n) for level, n in counts.items() if n and level != area.level
        ],
        "units": area.units.filter(is_active=True).order_by("name"),
        "staff": staff,
    }
    return render(request, "web/area_detail.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not: for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure of the database means unhealthy
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
@require_GET
def place_search(request: HttpRequest) -> HttpResponse:
    """/places/search/?for=PURPOSE&q=TEXT: the places a form may take, found by name, code,
    小区, building or address, as a list for the search box (web/place_picker.py)."""
    scope = PLACE_SCOPES.get(request.GET.get("for", ""))
    if scope is None:
        raise Http404("没有这种地点选择")
    try:
        areas = scope(request.user, request.GET.get("case", "").strip())
    except NotFound as exc:
        raise Http404(exc.message) from exc
    text = request.GET.get("q", "")[:50]
    matches = place_search_in(areas=areas, text=text)
    hint = "没有可选的地点"
    if text.strip():
        hint = "没有找到,请换个关键词(名称、编码、小区、楼栋或地址)"
    return render(request, "web/_place_results.html", {"matches": matches, "hint": hint})
