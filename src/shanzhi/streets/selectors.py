"""What a street still lacks before it can work: the administrator's set-up checklist."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from shanzhi.accounts.models import Role, RoleGrant, Unit, UnitKind
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import CaseType
from shanzhi.errors import NotFound
from shanzhi.registry.models import Building

# Units that take cases from the desk, and so each need someone to claim them.
HANDLING_KINDS = (UnitKind.STREET_OFFICE, UnitKind.STATION, UnitKind.COMMUNITY_COMMITTEE)


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    done: bool
    detail: str
    url: str = ""  # where the administrator does it


def street_by_code(code: str) -> Area:
    street = Area.objects.filter(code=code.strip(), level=Level.STREET).first()
    if street is None:
        raise NotFound(f"没有编码为“{code}”的街道")
    return street


def _holders(street: Area, role: str) -> int:
    return (
        RoleGrant.objects.filter(
            street=street, role=role, revoked_at__isnull=True, user__is_active=True
        )
        .values("user")
        .distinct()
        .count()
    )


def _units_without(names: list[str]) -> str:
    more = "等" if len(names) > 5 else ""
    return f"{len(names)}个单位还没有办理人:{'、'.join(names[:5])}{more}"


def street_checklist(*, street: Area | None = None, code: str = "") -> list[ChecklistItem]:
    """Each thing a street needs for its first case, with whether it is there yet."""
    street = street or street_by_code(code)
    levels = dict(
        Area.objects.filter(street=street)
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    grids = levels.get(Level.GRID, 0) + levels.get(Level.DEDICATED_GRID, 0)
    case_types = CaseType.objects.filter(street=street, is_active=True).count()
    handlers = RoleGrant.objects.filter(
        user__unit=OuterRef("pk"), role=Role.HANDLER, revoked_at__isnull=True, user__is_active=True
    )
    without = list(
        Unit.objects.filter(street=street, is_active=True, kind__in=HANDLING_KINDS)
        .filter(~Q(Exists(handlers)))
        .order_by("area__path", "name")
        .values_list("name", flat=True)
    )
    buildings = Building.objects.filter(street=street, deleted_at__isnull=True).count()
    counts = {role: _holders(street, role) for role in Role}
    admin = "admin:{}_{}_{}"
    items = [
        ChecklistItem(
            "事项清单",
            case_types > 0,
            f"{case_types}类事项" if case_types else "还没有事项类型",
            reverse(admin.format("cases", "casetype", "changelist")),
        ),
        ChecklistItem(
            "社区",
            levels.get(Level.COMMUNITY, 0) > 0,
            f"{levels.get(Level.COMMUNITY, 0)}个社区",
            reverse(admin.format("areas", "area", "add")),
        ),
        ChecklistItem(
            "网格与网格员",
            grids > 0 and counts[Role.GRID_WORKER] > 0,
            f"{grids}个网格、{levels.get(Level.MICROGRID, 0)}个微网格、"
            f"{counts[Role.GRID_WORKER]}名网格员",
            reverse("registry_import"),
        ),
        ChecklistItem(
            "指挥中心坐席",
            counts[Role.DISPATCHER] > 0,
            f"{counts[Role.DISPATCHER]}名坐席",
            reverse("registry_import"),
        ),
        ChecklistItem(
            "承办单位的办理人",
            not without,
            _units_without(without) if without else "每个承办单位都有办理人",
            reverse("registry_import"),
        ),
        ChecklistItem(
            "领导",
            counts[Role.LEADER] > 0,
            f"{counts[Role.LEADER]}名领导",
            reverse("registry_import"),
        ),
        ChecklistItem(
            "楼栋与房屋",
            buildings > 0,
            f"{buildings}栋楼",
            reverse("registry_import"),
        ),
    ]
    return items


def checklist_missing(items: list[ChecklistItem]) -> int:
    return sum(1 for item in items if not item.done)
