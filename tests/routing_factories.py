"""Closed cases of given types, as routing learns from, and the street settings it reads."""

from shanzhi.accounts.models import Unit
from shanzhi.cases import services
from shanzhi.cases.models import Case, Source
from shanzhi.routing.models import StreetSettings

from .case_factories import case_type, police

OIL = "HW-DQ-01"  # 餐饮油烟扰民
LAMP = "CG-SZ-01"  # 路灯损坏
NOISE = "ZA-ZS-01"  # 社会生活噪音扰民

TEXTS = {
    OIL: [
        "楼下饭店油烟很大,熏得窗户都不敢开",
        "烧烤店排烟管道直对居民楼,油烟呛人",
        "餐馆油烟净化器不开,整栋楼都是油烟味",
        "小吃店油烟直排,晚上味道特别重",
        "饭店厨房排油烟,楼上住户受不了",
        "火锅店油烟扰民,多次反映没有改善",
        "夜宵摊油烟熏人,衣服晾不了",
    ],
    LAMP: [
        "小区门口路灯坏了好几天,晚上很黑",
        "路灯不亮,夜里走路看不清",
        "主干道有三盏路灯损坏,请维修",
        "路灯一闪一闪的,可能坏了",
        "公园旁边的路灯全部不亮",
        "路灯杆倾斜,灯也不亮了",
        "巷子里的路灯晚上不亮,老人走路害怕",
    ],
    NOISE: [
        "楼上每天半夜跳舞,声音很大,影响休息",
        "广场舞音响太吵,晚上十点还在放",
        "隔壁装音响唱歌到深夜,噪音扰民",
        "邻居家狗整夜叫,吵得睡不着",
        "楼下麻将馆每晚吵闹到凌晨",
        "KTV声音太大,周边居民无法入睡",
        "夜里有人在小区里大声喧哗",
    ],
}


def settings_for(world, **values) -> StreetSettings:
    """The street's settings with `values` changed (small thresholds suit small tests)."""
    row, _ = StreetSettings.objects.get_or_create(street=world.street)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def closed_case(world, code: str, text: str, *, area=None, unit: Unit | None = None) -> Case:
    """A case reported, accepted as `code`, dispatched (to `unit`, default the police), claimed
    and resolved: finished, so that routing learns from it."""
    case, _ = services.case_report(
        area=area or world.microgrid, source=Source.RESIDENT, description=text
    )
    case = services.case_accept(case=case, actor=world.dispatcher, case_type=case_type(world, code))
    case = services.case_dispatch(case=case, actor=world.dispatcher, unit=unit or police(world))
    handler = world.handler if case.unit == police(world) else world.community_worker
    case = services.case_claim(case=case, actor=handler)
    return services.case_resolve(case=case, actor=handler, result="已处理", evidence="已处理")


def history(world, per_type: int = 7) -> list[Case]:
    return [
        closed_case(world, code, text) for code, texts in TEXTS.items() for text in texts[:per_type]
    ]
