"""From what a person typed (a page) or a client sent (the API) to the values a transition's
inputs take: references are looked up here, through the policy module, for pages and API alike;
anything that names nothing the actor may use is refused in Chinese. The engine then checks the
values against the declaration."""

from typing import Any

from django.db.models import QuerySet

from shanzhi import policy
from shanzhi.errors import DomainError, NotFound

from .errors import InvalidInput
from .flows.spec import Input, InputKind
from .models import Case, CaseType

REFERENCES = frozenset(
    {InputKind.UNIT, InputKind.CASE_TYPE, InputKind.AREA, InputKind.CASE, InputKind.RECORD}
)


def input_options(spec: Input, *, user: Any, case: Case) -> QuerySet[Any] | None:
    """What a reference input may name, for this actor and case (None: not a list to pick from)."""
    if spec.kind == InputKind.UNIT:
        return policy.units_assignable_for(case).order_by("name")
    if spec.kind == InputKind.CASE_TYPE:
        return CaseType.objects.filter(street_id=case.street_id, is_active=True).order_by("code")
    if spec.kind == InputKind.AREA:
        return policy.case_areas_for(user, case).order_by("path")
    return None


def input_resolve(spec: Input, raw: Any, *, user: Any, case: Case) -> Any:
    """The value `raw` stands for: a unit or type by id, a place by code, a case by number, a
    registry record by its natural key; other inputs pass as they are."""
    if spec.kind not in REFERENCES or raw in (None, ""):
        return raw
    text = str(raw).strip()
    if spec.kind == InputKind.CASE:
        try:
            return policy.case_for(user, text)
        except NotFound as exc:
            raise InvalidInput(f"{spec.label}:{exc.message}") from exc
    if spec.kind == InputKind.RECORD:
        from shanzhi.registry.selectors import record_find_any

        kinds = list(spec.choice_values) or ["enterprise", "facility"]
        try:
            return record_find_any(user=user, street_id=case.street_id, kinds=kinds, key=text)
        except DomainError as exc:
            raise InvalidInput(f"{spec.label}:{exc.message}") from exc
    options = input_options(spec, user=user, case=case)
    if options is None:
        raise InvalidInput(f"{spec.label}无法识别")
    lookup = {"code": text} if spec.kind == InputKind.AREA else {"pk": text}
    if spec.kind != InputKind.AREA and not text.isdigit():
        raise InvalidInput(f"请从列表中选择{spec.label}")
    found = options.filter(**lookup).first()
    if found is None:
        raise InvalidInput(f"没有找到该{spec.label},或您不能选择它")
    return found


def inputs_resolve(
    inputs: tuple[Input, ...], raw: dict[str, Any], *, user: Any, case: Case
) -> dict[str, Any]:
    """Every reference among `raw` resolved; the first refusal is raised."""
    return {
        name: input_resolve(spec, raw[name], user=user, case=case) if spec else raw[name]
        for name in raw
        for spec in [next((s for s in inputs if s.name == name), None)]
    }
