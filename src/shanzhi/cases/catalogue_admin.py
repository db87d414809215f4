"""Writes of the case-type catalogue (事项清单) as administrators edit it.

Types and categories are never deleted: cases point at them, so a type that is no longer used is
deactivated instead. The database's own constraints hold the rules that are the model's (one
handling limit, unique codes); their Chinese messages come back as `DomainError`.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError

from shanzhi import policy
from shanzhi.accounts.models import Unit, User
from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError, PermissionDenied

from .flows import FLOWS
from .models import Case, CaseCategory, CaseType

KEYWORD_SEPARATORS = re.compile(r"[,,、;;\s]+")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(DomainError):
    code = "invalid_catalogue"


def keywords_parse(text: str) -> list[str]:
    """Routing keywords from text separated by commas, 顿号, semicolons or line breaks."""
    seen: dict[str, None] = {}
    for word in KEYWORD_SEPARATORS.split(text):
        if word.strip():
            seen.setdefault(word.strip()[:30], None)
    return list(seen)


def extra_fields_check(value: Any) -> list[dict[str, Any]]:
    """The extra fields a type asks for: a list of {name, label, choices?, required?}."""
    if not isinstance(value, list):
        raise CatalogueError('附加字段须为列表,例如 [{"name": "amount", "label": "涉及金额"}]')
    names = set()
    for position, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise CatalogueError(f"第{position}个附加字段须为对象,含 name 与 label")
        name, label = item.get("name"), item.get("label")
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise CatalogueError(f"第{position}个附加字段的 name 须为小写英文字母、数字或下划线")
        if not isinstance(label, str) or not label.strip():
            raise CatalogueError(f"第{position}个附加字段缺少中文名称 label")
        if name in names:
            raise CatalogueError(f"附加字段 name“{name}”重复")
        names.add(name)
        choices = item.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise CatalogueError(f"附加字段“{label}”的 choices 须为文字列表")
        if not isinstance(item.get("required", False), bool):
            raise CatalogueError(f"附加字段“{label}”的 required 须为 true 或 false")
        unknown = set(item) - {"name", "label", "choices", "required"}
        if unknown:
            raise CatalogueError(f"附加字段“{label}”含有未知的键:{'、'.join(sorted(unknown))}")
    return value


def case_type_check(
    *,
    actor: User,
    street: Area,
    category: CaseCategory,
    default_unit: Unit | None,
    case_type: CaseType | None = None,
    workflow: str = "",
) -> None:
    """The rules of a type beyond its own columns: whose catalogue, whose category and unit, and
    that a type with cases keeps its flow (each case keeps the flow it was created under, and the
    figures count a flow's cases by their type)."""
    if not policy.can_manage_catalogue(actor, street):
        raise PermissionDenied("无权维护该街道的事项清单")
    if category.street_id != street.pk:
        raise CatalogueError("所选类别不属于该街道")
    if default_unit is not None and default_unit.street_id not in (None, street.pk):
        raise CatalogueError(f"单位“{default_unit.name}”不属于该街道")
    if default_unit is not None and not default_unit.is_active:
        raise CatalogueError(f"单位“{default_unit.name}”已停用")
    if workflow and workflow not in FLOWS:
        raise CatalogueError("没有这个流程")
    if (
        case_type is not None
        and case_type.pk is not None
        and workflow
        and workflow != CaseType.objects.get(pk=case_type.pk).workflow
        and Case.objects.filter(case_type=case_type).exists()
    ):
        raise CatalogueError("已有事件使用该事项类型,不能改换流程;请新建一个事项类型")


def _validate(row: CaseType | CaseCategory) -> None:
    try:
        row.validate_constraints()
    except ValidationError as exc:
        raise CatalogueError(";".join(exc.messages)) from exc


def case_type_save(
    *,
    actor: User,
    case_type: CaseType | None,
    street: Area,
    code: str,
    name: str,
    category: CaseCategory,
    default_unit: Unit | None,
    claim_limit_hours: int,
    handle_limit_days: int | None,
    handle_limit_hours: int | None,
    priority: str,
    workflow: str,
    keywords: list[str],
    extra_fields: list[dict[str, Any]],
    is_active: bool,
) -> CaseType:
    """Add a type to a street's catalogue (`case_type` None) or change one; the street and code
    of an existing type stay as they are."""
    if case_type is not None:
        street, code = case_type.street, case_type.code
    case_type_check(
        actor=actor,
        street=street,
        category=category,
        default_unit=default_unit,
        case_type=case_type,
        workflow=workflow,
    )
    code, name = code.strip().upper(), name.strip()
    if not code or not name:
        raise CatalogueError("编码和名称不能为空")
    row = case_type or CaseType(street=street, code=code)
    row.name, row.category, row.default_unit = name, category, default_unit
    row.claim_limit_hours = claim_limit_hours
    row.handle_limit_days, row.handle_limit_hours = handle_limit_days, handle_limit_hours
    row.priority, row.workflow = priority, workflow
    row.keywords = [word for word in keywords if word]
    row.extra_fields = extra_fields_check(extra_fields)
    row.is_active = is_active
    _validate(row)
    row.save()
    return row


def case_type_set_active(*, actor: User, case_type: CaseType, is_active: bool) -> CaseType:
    """Take a type out of use (or back): cases already of it keep it."""
    if not policy.can_manage_catalogue(actor, case_type.street):
        raise PermissionDenied("无权维护该街道的事项清单")
    case_type.is_active = is_active
    case_type.save(update_fields=["is_active"])
    return case_type


def case_category_check(
    *,
    actor: User,
    category: CaseCategory | None,
    street: Area,
    name: str,
    parent: CaseCategory | None,
) -> None:
    """The rules of a category: whose catalogue, two levels only, no twin among its siblings."""
    if street.level != Level.STREET:
        raise CatalogueError("事项类别只能建在街道上")
    if not policy.can_manage_catalogue(actor, street):
        raise PermissionDenied("无权维护该街道的事项清单")
    if not name.strip():
        raise CatalogueError("类别名称不能为空")
    if parent is not None:
        if parent.street_id != street.pk:
            raise CatalogueError("上级类别不属于该街道")
        if parent.parent_id is not None:
            raise CatalogueError("类别只有大类和小类两级,上级须为大类")
        if category is not None and parent.pk == category.pk:
            raise CatalogueError("类别不能放在它自己之下")
        if category is not None and category.children.exists():
            raise CatalogueError("已有小类的大类不能再放到其他类别之下")
    # The database treats empty parents as distinct, so two 大类 of one name are caught here.
    twins = CaseCategory.objects.filter(street=street, parent=parent, name=name.strip())
    if category is not None:
        twins = twins.exclude(pk=category.pk)
    if twins.exists():
        raise CatalogueError("同一上级下已有同名类别")


def case_category_save(
    *,
    actor: User,
    category: CaseCategory | None,
    street: Area,
    name: str,
    parent: CaseCategory | None,
) -> CaseCategory:
    """Add or rename a category (大类, or a 小类 under one) of a street's catalogue."""
    if category is not None:
        street = category.street
    case_category_check(actor=actor, category=category, street=street, name=name, parent=parent)
    row = category or CaseCategory(street=street)
    row.name, row.parent = name.strip(), parent
    _validate(row)
    row.save()
    return row
