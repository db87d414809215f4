"""One operation per action of the flows: `POST /cases/{number}/{action}`.

Nothing here is written per action. Each operation's request schema is generated from the inputs
the action declares (shanzhi.cases.flows), so the OpenAPI document lists exactly what each step
asks for; references travel as ids (`unit_id`), codes (`area_code`, `subject_code`) or numbers
(`target_number`). An action that requires photos takes multipart/form-data with `photos`; every
other one takes JSON. All of them run through `services.case_act`, as the pages do.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, UploadedFile
from pydantic import Field, create_model

from shanzhi import policy
from shanzhi.cases import services
from shanzhi.cases.engine import transition_for
from shanzhi.cases.flows import FLOWS, actions
from shanzhi.cases.flows.spec import ACTOR_LABELS, Input, InputKind, TransitionSpec
from shanzhi.cases.inputs import input_resolve
from shanzhi.errors import PermissionDenied

from . import present
from .auth import acting_user
from .schemas import WRITE_ERRORS, CaseDetailOut, Code, Id, Moment, Text, VersionIn

router = Router(tags=["事件流转"])
TEXTS = frozenset({InputKind.TEXT, InputKind.LONGTEXT})


def _annotation(spec: Input) -> Any:
    kind = spec.kind
    if kind in TEXTS or kind == InputKind.RECORD:
        return Annotated[Text, Field(max_length=spec.max_length)]
    if kind == InputKind.CHOICE:
        return Literal[spec.choice_values]
    if kind == InputKind.DATE:
        return date
    if kind == InputKind.DATETIME:
        return Moment
    if kind == InputKind.NUMBER:
        return Annotated[Decimal, Field(ge=spec.minimum, le=spec.maximum, max_digits=12)]
    if kind == InputKind.LINES:
        item = Annotated[Text, Field(max_length=spec.max_length)]
        return Annotated[list[item], Field(max_length=spec.max_items or None)]
    if kind in (InputKind.UNIT, InputKind.CASE_TYPE):
        return Id
    return Code  # AREA, CASE


def _describe_input(spec: Input) -> str:
    words = spec.label
    if spec.kind == InputKind.CHOICE:
        words += ":" + "、".join(f"{value}({label})" for value, label in spec.choices)
    if spec.help:
        words += f";{spec.help}"
    return words


def _schema(transition: TransitionSpec) -> type[Schema]:
    fields: dict[str, Any] = {}
    for spec in transition.inputs:
        if spec.kind == InputKind.PHOTOS:
            continue
        annotation = _annotation(spec)
        description = _describe_input(spec)
        if spec.required:
            fields[spec.api_name] = (annotation, Field(description=description))
        else:
            fields[spec.api_name] = (annotation | None, Field(None, description=description))
    name = "".join(part.title() for part in transition.action.split("_")) + "In"
    model: type[Schema] = create_model(name, __base__=VersionIn, **fields)
    return model


def _describe(action: str) -> str:
    """The action as every flow that has it declares it, for the OpenAPI document."""
    lines = []
    for flow in FLOWS.values():
        transition = flow.transition(action)
        if transition is None:
            continue
        sources = "、".join(flow.state_label(state) for state in transition.sources)
        target = flow.state_label(transition.target) if transition.target else "状态不变"
        who = "、".join(ACTOR_LABELS[kind] for kind in sorted(transition.who))
        lines.append(f"{flow.label}:{sources} → {target};执行者:{who}。")
    needs = "、".join(spec.label for spec in actions([action])[action].inputs) or "无"
    return (
        "".join(lines) + f"需要:{needs}。请求体的 version 须为调用方所见的事件版本,不符时返回 409;"
        "事件所在流程没有该动作、或当前状态不允许时返回 422;成功时返回更新后的事件详情。"
    )


def _act(
    request: HttpRequest,
    number: str,
    action: str,
    payload: Any,
    photos: list[UploadedFile] | None = None,
) -> dict[str, Any]:
    user = acting_user(request)
    case = policy.case_for(user, number)
    _, transition = transition_for(case, action)
    # Whoever may not act learns that, rather than that a unit or type they named is unknown.
    if not policy.can_perform(user, case, transition.who):
        raise PermissionDenied(f"无权对该事件执行“{transition.label}”")
    values = {}
    for spec in transition.inputs:
        if spec.kind == InputKind.PHOTOS:
            continue
        raw = getattr(payload, spec.api_name, None)
        if raw is not None:
            values[spec.name] = input_resolve(spec, raw, user=user, case=case)
    case = services.case_act(
        case=case,
        actor=user,
        action=action,
        expected_version=payload.version,
        photos=photos or [],
        **values,
    )
    return present.case_detail(case, user=user)


def _operation(action: str, transition: TransitionSpec) -> None:
    schema = _schema(transition)
    photos = transition.photo_input
    decorate = router.post(
        f"/cases/{{number}}/{action}",
        response={200: CaseDetailOut} | WRITE_ERRORS,
        operation_id=f"case_{action}",
        summary=transition.label,
        description=_describe(action),
    )
    if photos is not None and photos.required:

        def with_photos(
            request: HttpRequest,
            number: Code,
            payload: Form[schema],  # type: ignore[valid-type]
            photos: File[list[UploadedFile]],
        ) -> dict[str, Any]:
            return _act(request, number, action, payload, photos)

        decorate(with_photos)
    else:

        def plain(request: HttpRequest, number: Code, payload: schema) -> dict[str, Any]:  # type: ignore[valid-type]
            return _act(request, number, action, payload)

        decorate(plain)


for _action, _transition in actions().items():
    if _transition.offered:
        _operation(_action, _transition)
