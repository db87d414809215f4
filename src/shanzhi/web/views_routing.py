"""Routing suggestions (智能分拨建议) and recurring problems (高发问题) as htmx fragments.

The intake form, the case page and the dashboard each include one panel template that loads
its fragment from here, so that routing changes never touch those pages' own views.
"""

from contextlib import suppress
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from shanzhi import clock, policy
from shanzhi.analytics.periods import PeriodError, period_parse
from shanzhi.analytics.selectors import default_year
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, NotFound
from shanzhi.routing.hotspots import hotspots_find
from shanzhi.routing.selectors import suggestions_for
from shanzhi.routing.services import hotspot_adopt

from .views_cases import signed_in, staff_page

# Fewer characters than this say too little to route by.
SUGGEST_MIN_TEXT = 2
HOTSPOTS_SHOWN = 10

desk_page = staff_page(policy.can_use_desk)
hotspot_page = staff_page(policy.can_see_hotspots)


@desk_page
@require_GET
def intake_suggestions(request: HttpRequest) -> HttpResponse:
    """What the dispatcher has typed so far (description, place) → the top three suggestions."""
    text = request.GET.get("description", "").strip()
    code = request.GET.get("area", "").strip()
    context: dict[str, Any] = {"suggestions": [], "hint": ""}
    if len(text) < SUGGEST_MIN_TEXT:
        context["hint"] = "输入诉求内容后将推荐事项类型和承办单位"
    elif not code:
        context["hint"] = "请先选择发生地"
    else:
        try:
            area = policy.area_for(request.user, code)
        except NotFound as exc:
            context["hint"] = exc.message
        else:
            if area.street is None:
                context["hint"] = "发生地须在某个街道之内"
            else:
                context["suggestions"] = suggestions_for(street=area.street, text=text, area=area)
                if not context["suggestions"]:
                    context["hint"] = "没有匹配的事项类型,请受理时人工确定"
    return render(request, "web/routing/_suggestions.html", context)


@staff_page()
@require_GET
def case_suggestions(request: HttpRequest, number: str) -> HttpResponse:
    """The suggestions for a case that still waits for its type or unit."""
    user = signed_in(request)
    case = policy.case_for(user, number)
    suggestions = []
    if policy.can_see_routing(user, case) and case.is_open:
        suggestions = suggestions_for(
            street=case.street, title=case.title, text=case.description, area=case.area
        )
    return render(
        request,
        "web/routing/_suggestions.html",
        {"suggestions": suggestions, "hint": "" if suggestions else "没有匹配的事项类型"},
    )


def _streets(request: HttpRequest) -> list[Area]:
    code = request.GET.get("area", "").strip()
    if code:
        try:
            area = policy.area_for(request.user, code)
        except NotFound:
            return []
        return [area.street] if area.street is not None else []
    return list(policy.streets_visible_to(request.user))


def _moment(request: HttpRequest, params: QueryDict | None = None) -> datetime:
    """The end of the dashboard's period (its default year when none is named), or now."""
    period = None
    with suppress(PeriodError):
        period = period_parse((params or request.GET).get("period", ""))
    if period is None:
        period = default_year(viewer=request.user)
    end = datetime.combine(period.end, time.min, tzinfo=timezone.get_default_timezone())
    return min(end, clock.now())


@hotspot_page
@require_GET
def hotspots(request: HttpRequest) -> HttpResponse:
    """The dashboard's panel: the recurring problems in the viewer's scope as of the end of the
    dashboard's period, with their cases."""
    user = signed_in(request)
    moment = _moment(request)
    found = [
        h
        for street in _streets(request)
        for h in hotspots_find(street=street, user=user, moment=moment)
    ]
    found.sort(key=lambda h: -len(h.cases))
    rows = [
        {"hotspot": h, "may_adopt": h.task is None and policy.can_adopt_hotspot(user, h.area)}
        for h in found[:HOTSPOTS_SHOWN]
    ]
    context = {"rows": rows, "more": len(found) - len(rows), "period": request.GET.get("period")}
    return render(request, "web/routing/_hotspots.html", context)


@hotspot_page
@require_POST
def hotspot_adopt_view(request: HttpRequest) -> HttpResponse:
    """Turn one hotspot into a source-governance task, then show that task."""
    user = signed_in(request)
    key = request.POST.get("key", "")
    try:
        street = policy.area_for(user, request.POST.get("street", "")).street
        if street is None:
            raise NotFound("没有找到该街道")
        task = hotspot_adopt(
            actor=user, street=street, key=key, moment=_moment(request, request.POST)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard")
    messages.success(request, f"已转为源头治理任务 {task.number}")
    return redirect("case_detail", number=task.number)
