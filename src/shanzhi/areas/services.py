"""Writes to the area tree: create, rename and move nodes, keeping paths and the tenant key true."""

import re
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from shanzhi.errors import DomainError

from .models import PARENT_LEVELS, PATH_SEPARATOR, STREET_AND_BELOW, Area, Level

# National statistical division codes fix the length of the top three levels.
NATIONAL_CODE_LENGTHS = {Level.CITY: 4, Level.DISTRICT: 6, Level.STREET: 9}
LOCAL_SUFFIX = re.compile(r"^[0-9A-Z]{2,6}$")


class AreaRuleError(DomainError):
    code = "area_rule"


def _level_label(level: str | None) -> str:
    return Level(level).label if level else "顶级"


def _code_base(parent: Area | None) -> Area | None:
    """The node whose code a child's code extends: zones group communities without coding them."""
    while parent is not None and parent.level == Level.ZONE:
        parent = parent.parent
    return parent


def area_check_parent(*, level: str, parent: Area | None) -> None:
    """Refuse a parent whose level may not hold a node of `level`."""
    allowed = PARENT_LEVELS[Level(level)]
    parent_level = parent.level if parent is not None else None
    if parent_level not in allowed:
        names = "、".join(_level_label(choice) for choice in allowed)
        raise AreaRuleError(
            f"{Level(level).label}不能设在{_level_label(parent_level)}之下,只能设在{names}之下"
        )


def area_check_code(*, code: str, level: str, parent: Area | None) -> None:
    """Refuse a code that does not extend its parent's code as the level requires."""
    level = Level(level)
    if level in NATIONAL_CODE_LENGTHS:
        length = NATIONAL_CODE_LENGTHS[level]
        if not (code.isdigit() and len(code) == length):
            raise AreaRuleError(f"{level.label}编码应为{length}位统计用区划代码,收到“{code}”")
        if parent is not None and not code.startswith(parent.code):
            raise AreaRuleError(f"{level.label}编码“{code}”应以上级编码“{parent.code}”开头")
        return
    base = _code_base(parent)
    if base is None:
        raise AreaRuleError(f"{level.label}必须设在街道之下")
    if not code.startswith(base.code) or not LOCAL_SUFFIX.match(code[len(base.code) :]):
        raise AreaRuleError(f"{level.label}编码“{code}”应为“{base.code}”后加2至6位数字或大写字母")


@transaction.atomic
def area_create(
    *,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    boundary: dict[str, Any] | None = None,
) -> Area:
    """Create a node under `parent` after checking the level and code rules."""
    code = code.strip().upper()
    name = name.strip()
    if not name:
        raise AreaRuleError("名称不能为空")
    area_check_parent(level=level, parent=parent)
    area_check_code(code=code, level=level, parent=parent)
    if Area.objects.filter(code=code).exists():
        raise AreaRuleError(f"编码“{code}”已被使用")
    area = Area(
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=(parent.path if parent else "") + code + PATH_SEPARATOR,
        depth=(parent.depth if parent else 0) + 1,
        boundary=boundary,
        street=parent.street if parent is not None and level != Level.STREET else None,
    )
    area.save()
    if level == Level.STREET:
        area.street = area
        area.save(update_fields=["street"])
    return area


@transaction.atomic
def area_create_many(*, parent: Area, nodes: Sequence[tuple[str, str, str]]) -> list[Area]:
    """Create many children of one parent, as (code, name, level), checked as `area_create` does.

    For generating and importing whole grids: one existence query and one insert, not one each.
    """
    if any(level in NATIONAL_CODE_LENGTHS for _, _, level in nodes):
        raise AreaRuleError("市、区县、街道须逐个创建")
    codes = [code.strip().upper() for code, _, _ in nodes]
    if len(set(codes)) != len(codes):
        raise AreaRuleError("同一批辖区中有重复编码")
    taken = set(Area.objects.filter(code__in=codes).values_list("code", flat=True))
    if taken:
        raise AreaRuleError(f"编码“{sorted(taken)[0]}”已被使用")
    areas = []
    for code, (_, name, level) in zip(codes, nodes, strict=True):
        if not name.strip():
            raise AreaRuleError("名称不能为空")
        area_check_parent(level=level, parent=parent)
        area_check_code(code=code, level=level, parent=parent)
        areas.append(
            Area(
                code=code,
                name=name.strip(),
                level=level,
                parent=parent,
                path=parent.path + code + PATH_SEPARATOR,
                depth=parent.depth + 1,
                street=parent.street,
            )
        )
    return Area.objects.bulk_create(areas)


@transaction.atomic
def area_update(
    *, area: Area, name: str | None = None, boundary: dict[str, Any] | None = None
) -> Area:
    """Rename a node or set its boundary; its code and place are changed only by moving."""
    fields = []
    if name is not None:
        if not name.strip():
            raise AreaRuleError("名称不能为空")
        area.name = name.strip()
        fields.append("name")
    if boundary is not None:
        area.boundary = boundary
        fields.append("boundary")
    if fields:
        area.save(update_fields=[*fields, "updated_at"])
    return area


@transaction.atomic
def area_move(*, area: Area, new_parent: Area) -> Area:
    """Move a node and its whole subtree under `new_parent` in one statement.

    Codes are identifiers and do not change. Nodes below a street stay within their street,
    because the rows of other tables keyed by that street would otherwise move with them.
    """
    area = Area.objects.select_for_update().get(pk=area.pk)
    new_parent = Area.objects.select_for_update().get(pk=new_parent.pk)
    if new_parent.is_within(area):
        raise AreaRuleError("不能把辖区移到它自己或其下级之下")
    area_check_parent(level=area.level, parent=new_parent)
    below_street = area.level in STREET_AND_BELOW and area.level != Level.STREET
    if below_street and new_parent.street_id != area.street_id:
        raise AreaRuleError("街道以下的辖区不能跨街道移动")
    if area.parent_id == new_parent.pk:
        return area
    old_prefix = area.path
    new_prefix = new_parent.path + area.code + PATH_SEPARATOR
    depth_shift = new_parent.depth + 1 - area.depth
    Area.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)),
        depth=F("depth") + depth_shift,
    )
    Area.objects.filter(pk=area.pk).update(parent=new_parent)
    area.refresh_from_db()
    return area
