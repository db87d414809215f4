"""Recurring problems for the demo street, so that the dashboard's 高发问题 panel has something to
show. The panel looks at the weeks before the end of the dashboard's period, so these are planted
in the last months of the demo's year and handled through the general loop like its other
cases (nothing happens after the year). One of each way a problem recurs: the same kitchen's
fumes at one microgrid, a dark street lamp reported around the same spot by coordinates, and one
building site's noise told in different words, under different places, over several months."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, User
from shanzhi.cases import services
from shanzhi.cases.models import Case, CaseType, Source

from .generator import DemoStreet

FUMES = (
    "楼下“老张家常菜”饭店油烟直排,熏得家里窗户都不敢开",
    "老张家常菜的排烟管道正对我家阳台,每天中午晚上都是油烟",
    "饭店油烟太大了,楼上住户受不了,希望加装油烟净化器",
    "又是那家常菜馆,晚上油烟味特别重,反映过还没改善",
    "油烟扰民问题依旧,饭店厨房排烟没有处理",
)
LAMP = (
    "小区南门外的路灯坏了,晚上黑漆漆的",
    "南门口那盏路灯还是不亮,老人晚上出门不安全",
    "南门路灯一直不亮,请尽快修",
    "小区南门外路灯损坏好几天了",
)
SITE = (
    "湘湖路地铁站工地夜间施工打桩,晚上十一点还在响,睡不着",
    "湘湖路地铁站工地又在夜间施工打桩,吵得孩子没法睡觉",
    "投诉湘湖路地铁站工地半夜施工打桩,噪音扰民",
    "湘湖路地铁站工地夜间施工打桩,附近居民无法休息",
)


@dataclass(frozen=True)
class HotspotReport:
    cases: int


def _handled(case: Case, dispatcher: User) -> None:
    """受理 was done; 交办 to the type's unit, 签收, 办结 and 回访 as the demo's other cases."""
    assert case.case_type is not None  # noqa: S101 - accepted with its type
    unit = services.unit_for(case_type=case.case_type, area=case.area)
    grant = (
        RoleGrant.objects.filter(role=Role.HANDLER, user__unit=unit, revoked_at__isnull=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if unit is None or grant is None:
        return
    case = services.case_dispatch(case=case, actor=dispatcher, unit=unit)
    case = services.case_claim(case=case, actor=grant.user)
    case = services.case_resolve(case=case, actor=grant.user, result="已处理", evidence="已处理")
    services.case_callback(case=case, actor=dispatcher, satisfaction="satisfied")


def demo_hotspots(*, demo: DemoStreet, year: int) -> HotspotReport:
    """Plant the three recurring problems in the last months of `year`: reported by hotline,
    accepted with their type and handled within days."""
    street = demo.street
    rng = random.Random(f"shanzhi:{demo.seed}:{street.code}:hotspots")  # noqa: S311 - demo data
    dispatcher = (
        RoleGrant.objects.filter(role=Role.DISPATCHER, area=street, revoked_at__isnull=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if dispatcher is None or not demo.microgrids:
        return HotspotReport(0)
    types = {t.code: t for t in CaseType.objects.filter(street=street)}
    kitchen, lamp_grid = rng.sample(demo.microgrids, 2)
    lat, lon = Decimal("30.1805"), Decimal("120.2645")
    plans = (
        [(text, "HW-DQ-01", kitchen, 2 + 4 * n, None) for n, text in enumerate(FUMES)]
        + [
            (text, "CG-SZ-01", lamp_grid.parent or lamp_grid, 1 + 3 * n, n)
            for n, text in enumerate(LAMP)
        ]
        + [
            (text, "HW-ZS-01", rng.choice(demo.grids), 12 + 35 * n, None)
            for n, text in enumerate(SITE)
        ]
    )
    made = 0
    end = min(datetime(year, 12, 31, 17, tzinfo=timezone.get_default_timezone()), clock.now())
    for text, code, area, days_ago, spot in plans:
        reported = end - timedelta(days=days_ago, hours=rng.randint(2, 10))
        with clock.acting_at(reported):
            case, _ = services.case_report(
                area=area,
                source=Source.HOTLINE,
                actor=dispatcher.user,
                description=text,
                reporter_phone=f"1380000{rng.randint(1000, 9999)}",
                latitude=lat + Decimal(spot) / 10000 if spot is not None else None,
                longitude=lon if spot is not None else None,
            )
            case = services.case_accept(case=case, actor=dispatcher.user, case_type=types[code])
        with clock.acting_at(reported + timedelta(hours=1)):
            _handled(case, dispatcher.user)
        made += 1
    return HotspotReport(made)
