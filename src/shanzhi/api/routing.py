"""Routing suggestions over the API: for a case waiting for its type or unit, and for a text
being taken in. The same suggestions as the desk and the case page (shanzhi.routing)."""

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from shanzhi import policy
from shanzhi.errors import NotFound, PermissionDenied
from shanzhi.routing.selectors import Suggestion, suggestions_for

from .auth import acting_user
from .errors import InvalidInput
from .schemas import READ_ERRORS, Code, Out, Ref, Text

router = Router(tags=["智能分拨"])


class SuggestionOut(Out):
    case_type: Ref = Field(description="建议的事项类型")
    case_type_code: str
    unit: Ref | None = Field(description="建议的承办单位;无默认单位时为 null")
    confidence: float | None = Field(description="模型给出的校准置信度(0–1);按关键词推荐时为 null")
    source: Literal["模型", "关键词"] = Field(description="给出建议的是分拨模型还是关键词")
    matched: list[str] = Field(description="按关键词推荐时命中的关键词")
    preselect: bool = Field(description="置信度达到街道设定的阈值,受理时预先选中该类型")


class SuggestionList(Out):
    items: list[SuggestionOut] = Field(description="最多三条,最可能的在前")


class SuggestIn(Schema):
    text: Annotated[Text, Field(min_length=2, max_length=2000, description="诉求内容")]
    title: Annotated[Text, Field(max_length=200, description="标题,可不填")] = ""
    area_code: Code = Field(description="发生地的辖区编码")


def _out(suggestions: list[Suggestion]) -> dict[str, Any]:
    return {
        "items": [
            {
                "case_type": {"id": s.case_type.pk, "name": s.case_type.name},
                "case_type_code": s.case_type.code,
                "unit": {"id": s.unit.pk, "name": s.unit.name} if s.unit else None,
                "confidence": None if s.confidence is None else round(s.confidence, 4),
                "source": s.source,
                "matched": list(s.matched),
                "preselect": s.preselect,
            }
            for s in suggestions
        ]
    }


@router.get(
    "/cases/{number}/suggestions",
    response={200: SuggestionList} | READ_ERRORS,
    operation_id="case_suggestions",
    summary="事件的分拨建议",
    description="为坐席推荐该事件的事项类型和承办单位(最多三条,带置信度);仅坐席可用。",
)
def case_suggestions(request: HttpRequest, number: Code) -> dict[str, Any]:
    """The top suggestions for one case in the caller's scope."""
    user = acting_user(request)
    case = policy.case_for(user, number)
    if not policy.can_see_routing(user, case):
        raise PermissionDenied("只有坐席可以查看分拨建议")
    return _out(
        suggestions_for(street=case.street, title=case.title, text=case.description, area=case.area)
    )


@router.get(
    "/routing/suggestions",
    response={200: SuggestionList} | READ_ERRORS,
    operation_id="routing_suggest",
    summary="登记时的分拨建议",
    description="按诉求内容和发生地推荐事项类型和承办单位(最多三条,带置信度);仅坐席可用。",
)
def routing_suggest(request: HttpRequest, params: Query[SuggestIn]) -> dict[str, Any]:
    """The top suggestions for a text about to be registered at a place."""
    user = acting_user(request)
    if not policy.can_use_desk(user):
        raise PermissionDenied("只有坐席可以查看分拨建议")
    try:
        area = policy.area_for(user, params.area_code)
    except NotFound as exc:
        raise InvalidInput(exc.message) from exc
    if area.street is None:
        raise InvalidInput("发生地须在某个街道之内")
    return _out(
        suggestions_for(street=area.street, title=params.title, text=params.text, area=area)
    )
