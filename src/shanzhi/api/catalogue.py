"""The case-type catalogue (事项清单) and the area tree, as the caller's scope shows them."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from shanzhi import policy
from shanzhi.areas.models import Area
from shanzhi.areas.selectors import areas_with_child_counts
from shanzhi.cases.models import CaseType
from shanzhi.errors import NotFound

from . import present
from .auth import acting_user
from .errors import InvalidInput
from .schemas import (
    READ_ERRORS,
    AreaDetailOut,
    AreaListIn,
    AreaPage,
    CaseTypeListIn,
    CaseTypePage,
    Code,
)

router = Router()


@router.get(
    "/case-types",
    response={200: CaseTypePage} | READ_ERRORS,
    tags=["事项清单"],
    operation_id="case_type_list",
    description="调用方所在街道(可按 street 只看其一)启用中的事项类型,按街道和编码排序。",
    summary="事项清单",
)
def case_type_list(request: HttpRequest, params: Query[CaseTypeListIn]) -> dict[str, Any]:
    """The active case types of the streets the caller works for, by street and code."""
    streets = policy.streets_visible_to(acting_user(request))
    if params.street:
        streets = streets.filter(code=params.street)
    case_types = (
        CaseType.objects.filter(street__in=streets, is_active=True)
        .select_related("street", "category__parent", "default_unit")
        .order_by("street__code", "code")
    )
    return present.page(case_types, params, present.case_type_items)


@router.get(
    "/areas",
    response={200: AreaPage} | READ_ERRORS,
    tags=["辖区"],
    operation_id="area_list",
    description="调用方可见的辖区,按树的顺序;给出 parent 时只列该辖区的直接下级。",
    summary="辖区列表",
)
def area_list(request: HttpRequest, params: Query[AreaListIn]) -> dict[str, Any]:
    """The areas the caller may see, in tree order; with `parent`, that node's children only."""
    user = acting_user(request)
    areas = policy.areas_visible_to(user)
    if params.parent:
        try:
            parent = policy.area_for(user, params.parent)
        except NotFound as exc:
            raise InvalidInput(exc.message) from exc
        areas = areas.filter(parent=parent)
    if params.level:
        areas = areas.filter(level=params.level)
    rows = areas_with_child_counts(areas=areas.select_related("parent", "street")).order_by("path")
    return present.page(rows, params, present.area_items)


@router.get(
    "/areas/{code}",
    response={200: AreaDetailOut} | READ_ERRORS,
    tags=["辖区"],
    operation_id="area_detail",
    description="一个辖区;不存在或不在调用方辖区范围内时返回 404。",
    summary="辖区详情",
)
def area_detail(request: HttpRequest, code: Code) -> dict[str, Any]:
    """One area; 404 when it does not exist or lies outside the caller's scope."""
    area = policy.area_for(acting_user(request), code)
    counted = areas_with_child_counts(
        areas=Area.objects.filter(pk=area.pk).select_related("parent", "street")
    )
    return present.area_detail(counted.get())
