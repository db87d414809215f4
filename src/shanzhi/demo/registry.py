"""The demo street's registry 人房企事物, at the density the seed reports describe.

`demo_registry` fills the street `demo_build` made: residential compounds (小区) of buildings and
houses on every microgrid, the households living in them (valid ID numbers and phones, care and
sensitive tags), enterprises with valid credit codes and service libraries, the things inspectors
check, the visits of the year up to today and one 楼小通 verification task.

Records, tags and routine visits are bulk-inserted: they are the register as an import leaves it
and history without side effects. What acts on other things goes through the services: the
verification task, the checks that corrected a record, and the enterprise visits whose problems
became appeal cases, which `demo_cases` replays at their moments together with the year's cases.
`demo_case_links` then points a share of the year's cases at the records they are about.
"""

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import accumulate
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, User
from shanzhi.areas.models import Area, Level
from shanzhi.cases.models import Case, State
from shanzhi.errors import DomainError
from shanzhi.registry import services
from shanzhi.registry.models import (
    Building,
    CaseLink,
    Enterprise,
    EnterpriseScale,
    Facility,
    FacilityKind,
    House,
    HouseholdType,
    HouseUse,
    ItemStatus,
    Library,
    LibraryEntry,
    Person,
    PersonTag,
    RecordKind,
    Tag,
    VerificationItem,
    Visit,
)
from shanzhi.registry.validators import (
    CREDIT_ALPHABET,
    credit_code_complete,
    organization_code_complete,
    resident_id_complete,
)
from shanzhi.workdays.calendar import WorkCalendar

from .cases import PHRASES, ROADS, RaisedCase
from .generator import DemoStreet
from .places import PROPERTY_COMPANIES

BATCH = 2000


@dataclass(frozen=True)
class RegistryScale:
    houses: int
    enterprises: int
    above_scale: int  # 规上
    shops: int  # 个体工商户 among the enterprises; each is also a 九小场所
    libraries: int  # enterprises in 培育库, 服务库 or 稳商库
    small_venues: int  # 九小场所
    cameras: int
    chargers: int
    gas: int
    facilities: int  # of every kind; hydrants make up what the others leave
    correction: int  # 社区矫正
    resettlement: int  # 安置帮教
    key_persons: int  # 重点人员
    above_visits: int
    above_raised: int
    below_visits: int
    below_raised: int
    verified: int  # persons a 楼小通 task covers, roughly


# `full` follows the seeds: 574 visits to 190 规上 enterprises solving 35 problems, 18 persons
# under community correction and 52 under resettlement assistance, 2,302 small venues checked,
# 20,736 registry records verified (000, 003). `small` is a hundredth, for tests.
REGISTRY_SCALES = {
    "full": RegistryScale(
        houses=60_000,
        enterprises=3_000,
        above_scale=190,
        shops=1_000,
        libraries=100,
        small_venues=2_302,
        cameras=2_400,
        chargers=1_300,
        gas=600,
        facilities=10_000,
        correction=18,
        resettlement=52,
        key_persons=36,
        above_visits=574,
        above_raised=35,
        below_visits=1_500,
        below_raised=20,
        verified=20_736,
    ),
    "small": RegistryScale(
        houses=600,
        enterprises=30,
        above_scale=2,
        shops=10,
        libraries=3,
        small_venues=23,
        cameras=24,
        chargers=13,
        gas=6,
        facilities=100,
        correction=2,
        resettlement=2,
        key_persons=2,
        above_visits=6,
        above_raised=1,
        below_visits=15,
        below_raised=1,
        verified=207,
    ),
}

# Buildings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BuildingType:
    label: str
    floors: tuple[int, int]
    units: tuple[int, int]
    per_floor: tuple[int, int]
    floor_area: tuple[int, int]
    weight: float
    shops: tuple[int, int] = (0, 0)  # ground-floor shops (底商) of a building along a road


# The old town's mix: walk-ups, then mid- and high-rises of the 2000s, shops along the roads;
# low blocks fill what is left of a microgrid.
BUILDING_TYPES = (
    _BuildingType("多层", (5, 7), (1, 3), (2, 2), (55, 110), 50),
    _BuildingType("小高层", (9, 12), (1, 2), (2, 2), (85, 130), 15),
    _BuildingType("高层", (17, 33), (1, 2), (2, 4), (89, 143), 8),
    _BuildingType("沿街商住楼", (4, 6), (1, 2), (2, 2), (60, 100), 12, shops=(3, 8)),
    _BuildingType("低层", (2, 3), (1, 1), (2, 2), (45, 80), 0),
)
PARK_BUILDING = _BuildingType("办公楼", (3, 12), (1, 1), (2, 6), (120, 600), 1)
FILLER = BUILDING_TYPES[-1]
ELEVATOR_FLOORS = 8
RENTED_SHARE = 0.25
VACANT_SHARE = 0.05

# Households --------------------------------------------------------------------------------

# Who lives in an owner-occupied house, and in a rented one (weights).
OWNER_HOUSEHOLDS = {
    "alone_elderly": 7.5,
    "elderly_couple": 14,
    "single": 3,
    "young_couple": 6,
    "nuclear": 37,
    "three_generations": 34.5,
}
RENTED_HOUSEHOLDS = {"sharers": 50, "migrant_family": 50}
MIGRANT_OWNERS = 0.04
REGISTERED_RENTERS = 0.1
SUBSISTENCE_HOUSEHOLDS = 0.006
EMPTY_NEST_REGISTERED = 0.4  # elderly couples registered for care visits
LAPSED_CARE = 0.03  # care persons whose visit is overdue today

# Ages by band (low, high, weight).
ELDER_AGES = ((60, 64, 22), (65, 69, 22), (70, 74, 18), (75, 79, 14), (80, 84, 11), (85, 89, 8))
ALONE_AGES = ((65, 69, 15), (70, 74, 20), (75, 79, 22), (80, 84, 20), (85, 89, 14), (90, 97, 9))

HOME_REGION = "330109"
# County codes of the provinces most of Hangzhou's migrant workers come from.
MIGRANT_REGIONS = (
    "341221",
    "341222",
    "341226",
    "341623",
    "340826",
    "341523",
    "361128",
    "360124",
    "411526",
    "413026",
    "411627",
    "420982",
    "421182",
    "430524",
    "431321",
    "510623",
    "511621",
    "520324",
    "522121",
    "532128",
    "330327",
    "330382",
    "331081",
    "330681",
)

# Surnames as common as they are among the town's own families, and across the country.
LOCAL_SURNAMES = {
    "陈": 8,
    "王": 6,
    "沈": 4,
    "徐": 4,
    "周": 4,
    "李": 4,
    "张": 4,
    "俞": 3,
    "金": 3,
    "朱": 3,
    "吴": 3,
    "楼": 2.5,
    "胡": 2.5,
    "杨": 2.5,
    "黄": 2.5,
    "来": 2,
    "韩": 2,
    "汪": 2,
    "施": 2,
    "傅": 2,
    "赵": 2,
    "钱": 2,
    "蔡": 2,
    "孔": 1.5,
    "丁": 1.5,
    "方": 1.5,
    "邵": 1.5,
    "章": 1.5,
    "许": 1.5,
    "姚": 1.5,
    "陆": 1.5,
    "何": 1.5,
    "郑": 1.5,
    "孙": 1.5,
    "刘": 1.5,
    "任": 1.2,
    "葛": 1.2,
    "高": 1.2,
    "潘": 1.2,
    "马": 1,
    "田": 1,
    "董": 1,
    "倪": 1,
    "裘": 0.6,
}
NATIONAL_SURNAMES = {
    "王": 7,
    "李": 7,
    "张": 6.5,
    "刘": 5.5,
    "陈": 5,
    "杨": 3.5,
    "黄": 2.5,
    "赵": 2.5,
    "吴": 2,
    "周": 2,
    "徐": 1.5,
    "孙": 1.5,
    "马": 1.3,
    "胡": 1.3,
    "朱": 1.2,
    "郭": 1.2,
    "何": 1.2,
    "高": 1.1,
    "林": 1.1,
    "罗": 1,
    "郑": 1,
    "梁": 0.9,
    "谢": 0.8,
    "宋": 0.8,
    "唐": 0.8,
    "许": 0.7,
    "韩": 0.7,
    "冯": 0.7,
    "邓": 0.7,
    "曹": 0.6,
    "彭": 0.6,
    "曾": 0.6,
    "肖": 0.6,
    "田": 0.5,
    "董": 0.5,
    "袁": 0.5,
    "潘": 0.5,
    "蒋": 0.5,
    "蔡": 0.5,
    "余": 0.5,
    "杜": 0.4,
    "叶": 0.4,
    "程": 0.4,
    "魏": 0.4,
    "吕": 0.4,
    "丁": 0.4,
    "任": 0.4,
    "姚": 0.3,
    "卢": 0.3,
    "姜": 0.3,
    "钟": 0.3,
    "谭": 0.3,
    "汪": 0.3,
    "范": 0.3,
    "石": 0.3,
    "廖": 0.3,
    "夏": 0.3,
    "韦": 0.3,
    "付": 0.3,
}

# Given names as each generation was named: whole names, then characters to combine, by sex.
_NAMES_BY_ERA = {
    ("old", True): "建国 国庆 德明 福根 阿毛 根法 水根 金海 志明 宝林 荣华 "
    "长林 永福 炳荣 树林 国华 关法 土根 文彬 雪根 阿大",
    ("old", False): "秀英 桂英 玉兰 凤英 金花 月娥 彩娣 杏花 阿娥 美娟 素珍 "
    "菊英 兰芳 爱娣 翠英 雅琴 金娣 小妹 月仙 银娣",
    ("mid", True): "建华 卫东 志强 国平 建军 海涛 红兵 立新 建平 永刚 小平 "
    "向阳 国良 建新 伟 勇 军 明 华 斌 刚 强",
    ("mid", False): "丽萍 红梅 美华 海燕 丽娟 秀琴 晓红 建英 丽华 敏 艳 霞 芳 燕 萍 红 英 琴 娟",
    ("young", True): "磊 杰 涛 超 鹏 浩 俊 晓东 建波 志伟 佳明 晨阳 文杰 宇航 天宇 峰 辉 亮",
    ("young", False): "婷 丹 倩 静 佳 琳 莉 晓燕 婷婷 丽丽 佳丽 雪梅 思琪 露 颖 慧 洁 瑶",
    ("new", True): "子轩 浩宇 宇轩 梓豪 俊熙 一鸣 博文 子墨 沐阳 浩然 皓轩 泽宇 奕辰 锦程 辰逸 睿",
    ("new", False): "梓涵 欣怡 一诺 子涵 诗涵 雨桐 可馨 梓萱 若汐 语桐 思彤 佳怡 欣妍 芷若 依诺 悦",
}
GIVEN_NAMES = {key: tuple(names.split()) for key, names in _NAMES_BY_ERA.items()}
GIVEN_CHARS: dict[tuple[str, bool], tuple[str, str]] = {
    ("old", True): ("德福金长永荣宝根国炳", "林华生明海良发祥富昌"),
    ("old", False): ("秀桂玉凤月彩素菊爱翠", "英兰娣珍花娥琴仙芬香"),
    ("mid", True): ("建国志卫永立海红晓伟", "华平军强明东新林刚峰"),
    ("mid", False): ("丽红美海秀晓建雪亚春", "萍梅华燕娟琴红英芳霞"),
    ("young", True): ("志俊文佳晨宇天浩家一", "杰豪明辉涛鹏航阳超斌"),
    ("young", False): ("晓佳思雪丽婷诗梦雅静", "燕琪婷雯洁颖慧瑶丹琳"),
    ("new", True): ("子梓浩宇俊一博沐泽奕", "轩豪宇然墨辰熙阳睿航"),
    ("new", False): ("梓欣一子诗雨可若语思", "涵怡诺萱桐馨汐彤妍瑶"),
}
SINGLE_NAME_SHARE = {"old": 0.05, "mid": 0.3, "young": 0.25, "new": 0.05}

_MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 "
    "177 180 181 182 183 184 185 186 187 188 189 191 198 199"
)
MOBILE_PREFIXES = tuple(_MOBILE_PREFIXES.split())

# Enterprises -------------------------------------------------------------------------------

BRAND_CHARS = "恒鑫瑞华宏达远盛通创科新联信泰德隆和润博智源丰嘉越中天金元星海立凯锦辰宇"
# Industry, its share of 规上 and of other companies, words its names use.
INDUSTRIES: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    ("汽车零部件制造", 18, 3, ("汽车部件", "汽配", "精密机械")),
    ("纺织服装", 14, 4, ("纺织", "服饰", "化纤")),
    ("通用设备制造", 16, 5, ("机械", "机电", "设备")),
    ("电子信息", 10, 6, ("电子", "信息技术", "智能科技")),
    ("新材料", 8, 3, ("新材料", "复合材料")),
    ("软件和信息技术服务", 6, 14, ("网络科技", "软件", "数字科技")),
    ("建筑业", 10, 10, ("建设", "建筑工程", "装饰工程")),
    ("批发和零售", 8, 20, ("贸易", "商贸", "实业")),
    ("住宿和餐饮", 2, 8, ("餐饮管理", "酒店管理")),
    ("文化创意", 2, 10, ("文化传媒", "文化创意", "广告")),
    ("医药制造", 4, 2, ("生物医药", "医疗器械")),
    ("物流仓储", 2, 5, ("物流", "供应链管理")),
    ("商务服务", 0, 10, ("企业管理咨询", "人力资源", "财务咨询")),
)
# 九小场所 by kind: its name's ending and how many of a hundred are of that kind.
SMALL_VENUES = (
    ("小吃店", 24),
    ("便利店", 20),
    ("理发店", 12),
    ("美容院", 6),
    ("足浴店", 4),
    ("小旅馆", 4),
    ("网吧", 2),
    ("棋牌室", 6),
    ("诊所", 4),
    ("培训中心", 6),
    ("加工坊", 6),
    ("维修店", 6),
)
LIBRARY_NOTES = {
    Library.CULTIVATION: "列入小升规培育",
    Library.SERVICE: "纳入重点服务企业",
    Library.RETENTION: "重点稳商对象",
}
FACILITY_PREFIXES: dict[str, str] = {
    FacilityKind.HYDRANT: "XHS",
    FacilityKind.ELEVATOR: "DT",
    FacilityKind.CAMERA: "JK",
    FacilityKind.CHARGER: "CDZ",
    FacilityKind.GAS: "RQ",
    FacilityKind.SMALL_VENUE: "JXCS",
}
CHARGER_OPERATORS = ("杭州易充科技有限公司", "杭州小绿充新能源有限公司", "浙江快电科技有限公司")
GAS_OPERATOR = "萧山天然气有限公司"

# What the visits say ------------------------------------------------------------------------

CARE_SUMMARIES = (
    "上门看望,老人身体状况良好,家中水电燃气使用安全",
    "上门走访,了解生活起居情况,提醒按时服药",
    "入户看望,老人精神状态不错,子女近期来过",
    "走访慰问,检查家中用电用气安全,无异常",
    "上门了解近况,老人反映一切都好,留下联系电话",
    "入户走访,帮助老人预约了社区卫生服务中心体检",
)
CARE_PROBLEMS = (
    "反映楼道灯不亮,已联系物业维修",
    "反映家中水龙头漏水,已联系志愿者上门修理",
    "希望参加社区老年食堂助餐,已登记",
    "反映近期血压偏高,已联系家庭医生",
)
ENTERPRISE_SUMMARIES = (
    "走访了解企业生产经营情况,订单饱满,运行平稳",
    "走访宣传惠企政策,了解企业用工和融资情况",
    "走访企业,检查安全生产和消防安全,未发现明显隐患",
    "走访了解企业一季度生产经营情况,产值同比增长",
    "走访企业,了解技改扩产计划,企业暂无困难",
    "走访宣讲安全生产责任,企业负责人签订承诺书",
)
ENTERPRISE_SOLVED = (
    "反映员工子女入学咨询,已当场解答",
    "反映门前路灯不亮,已转社区处理并修复",
    "咨询研发费用加计扣除政策,已当场解答",
)
RAISED_TYPES = {
    "QY-YG-01": 8,
    "QY-ZC-01": 6,
    "QY-ZC-02": 4,
    "QY-XM-01": 3,
    "QY-KJ-01": 3,
    "QY-RZ-01": 3,
    "QY-SP-01": 3,
    "QY-FL-01": 2,
    "QY-YG-02": 2,
}

# What a case of each type is about in the registry: the building its address names, a house or
# residents of that building (with the tag the matter concerns), or a facility or enterprise of
# its microgrid. Petitions and enterprises' own appeals name nothing the register holds.
LINK_TARGETS: dict[str, str] = {
    "CG-WJ-01": "house",
    "HW-DQ-01": "facility:small_venue",
    "WY-FW-01": "building",
    "WY-DT-01": "facility:elevator",
    "WY-DT-02": "building",
    "WY-GS-01": "building",
    "WY-ZX-01": "house",
    "WY-SS-01": "building",
    "WY-SS-02": "house",
    "MD-LL-01": "neighbours",
    "MD-HY-01": "couple",
    "MD-HY-02": "person:elderly",
    "MD-LD-01": "enterprise",
    "MD-LD-02": "enterprise",
    "MD-WY-01": "person",
    "MD-ZL-01": "house:rented",
    "AQ-XF-01": "building",
    "AQ-XF-02": "building",
    "AQ-XF-03": "facility:hydrant",
    "AQ-XF-04": "facility:small_venue",
    "AQ-JX-01": "facility:small_venue",
    "AQ-RQ-01": "house",
    "AQ-RQ-02": "facility:small_venue",
    "AQ-RQ-03": "facility:gas",
    "AQ-DD-01": "building",
    "AQ-DD-02": "building",
    "AQ-FW-01": "building",
    "AQ-FW-02": "building",
    "AQ-FW-03": "building",
    "AQ-FW-04": "house",
    "AQ-SC-01": "enterprise",
    "AQ-SC-02": "enterprise",
    "MS-YL-01": "person:living_alone",
    "MS-YL-03": "person:elderly",
    "MS-JZ-01": "person",
    "MS-CJ-01": "person:disabled",
    "MS-WB-01": "person:child",
    "MS-YF-01": "person:veteran",
    "ZA-QZ-01": "house:rented",
    "ZA-LD-01": "house:rented",
    "ZA-JZ-01": "person:community_correction",
    "ZA-JS-01": "person:mental_disorder",
    "ZA-ZS-01": "house",
}
LINK_SHARE = 0.7  # of the cases about a record, those the handler linked to it


@dataclass
class RegistryReport:
    """What `demo_registry` made, for the command's summary."""

    counts: dict[str, int]  # by kind of record, in Chinese
    tags: dict[str, int]  # persons by tag name
    verified: int  # items of the verification task checked
    parts: list[tuple[str, float]]  # seconds per part
    raised: list[RaisedCase]
    seconds: float


HOUSE_COLUMNS = (
    "street",
    "area",
    "building",
    "address",
    "unit_no",
    "floor",
    "room",
    "use",
    "floor_area",
    "version",
)
VISIT_COLUMNS = (
    "street",
    "area",
    "visitor",
    "visited_at",
    "person",
    "enterprise",
    "summary",
    "problems",
)
PROTECTED_COLUMNS = (
    "id_number_sealed",
    "id_number_digest",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone_sealed",
    "phone_digest",
    "phone_masked",
)
PERSON_COLUMNS = (
    "street",
    "area",
    "house",
    "name",
    "household_type",
    "note",
    "version",
    *PROTECTED_COLUMNS,
)


class _Rows:
    """Rows of one table, inserted a batch at a time with one prepared statement.

    `bulk_create` runs every value through the fields' machinery, about 10 µs a value: minutes
    for the street's million values of persons and visits. These values are valid already and
    only adapted per column for the database, as the ORM would; the columns Django stamps
    (created_at, updated_at) get the moment of the run.
    """

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        meta = model._meta
        ops = connection.ops
        by_name = {f.name: f for f in meta.concrete_fields}
        fields = [by_name[name] for name in names]
        stamped = [
            f
            for f in meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        columns = [ops.quote_name(f.column) for f in [*fields, *stamped]]
        # Names come from the model's meta, quoted; the values go as parameters.
        self.sql = (
            f"INSERT INTO {ops.quote_name(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.stamp = tuple(ops.adapt_datetimefield_value(timezone.now()) for _ in stamped)
        self.adapters: list[tuple[int, Callable[[Any], Any]]] = []
        for index, f in enumerate(fields):
            if isinstance(f, models.DateTimeField):
                self.adapters.append((index, ops.adapt_datetimefield_value))
            elif isinstance(f, models.DateField):
                self.adapters.append((index, ops.adapt_datefield_value))
            elif isinstance(f, models.DecimalField):
                self.adapters.append(
                    (
                        index,
                        partial(
                            ops.adapt_decimalfield_value,
                            max_digits=f.max_digits,
                            decimal_places=f.decimal_places,
                        ),
                    )
                )
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        if self.adapters:
            row = list(values)
            for index, adapt in self.adapters:
                if row[index] is not None:
                    row[index] = adapt(row[index])
            values = tuple(row)
        self.rows.append(values + self.stamp)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, self.rows)
            self.rows = []


@dataclass(slots=True)
class _Home:
    pk: int
    address: str
    area_id: int
    building_id: int
    use: str


@dataclass(frozen=True)
class _Place:
    area: Area
    grid: Area
    community: Area
    zone: Area | None
    estate: str
    number: int
    park: bool


@dataclass
class _Resident:
    """What later parts need of a person, without keeping 200,000 model instances."""

    pk: int
    place: _Place
    age: int
    male: bool
    tags: set[str]
    id_number: str
    digest: str


@dataclass
class _Member:
    age: int
    male: bool
    surname: str
    role: str  # elder, adult, child


@dataclass
class _Staff:
    grid_workers: dict[int, User]  # by grid id
    street_leaders: list[User]
    zone_leaders: dict[int, User]  # by zone id


@dataclass
class _Made:
    """Records made so far, as the later parts need them."""

    buildings: list[Building] = field(default_factory=list)
    houses: list[_Home] = field(default_factory=list)
    residents: list[_Resident] = field(default_factory=list)
    above: list[Enterprise] = field(default_factory=list)
    below: list[Enterprise] = field(default_factory=list)
    places: dict[int, _Place] = field(default_factory=dict)


def _spread(total: int, weights: Sequence[float], rng: random.Random) -> list[int]:
    """Split `total` over as many parts as `weights`, each part at least 1 while there is enough."""
    counts = [1 if total >= len(weights) else 0 for _ in weights]
    left = total - sum(counts)
    for index in rng.choices(range(len(weights)), weights=weights, k=max(0, left)):
        counts[index] += 1
    return counts


def _band_age(rng: random.Random, bands: Sequence[tuple[int, int, int]]) -> int:
    low, high, _ = rng.choices(bands, weights=[b[2] for b in bands])[0]
    return rng.randint(low, high)


def _era(born: int) -> str:
    if born < 1955:
        return "old"
    if born < 1980:
        return "mid"
    return "young" if born < 2000 else "new"


class _Registry:
    """The registry of one demo street, made part by part from the street's own sequence."""

    def __init__(self, demo: DemoStreet, year: int, scale: RegistryScale) -> None:
        self.demo = demo
        self.street = demo.street
        self.year = year
        self.scale = scale
        self.seed = f"shanzhi:{demo.seed}:{demo.street.code}:registry"
        self.tz = timezone.get_default_timezone()
        self.today = timezone.localdate(clock.now())
        # Visits run up to the start of today, so that the same seed gives the same visits all
        # day long and nothing is dated in the future.
        self.until = datetime(self.today.year, self.today.month, self.today.day, tzinfo=self.tz)
        self.calendar = WorkCalendar()
        self.workdays: dict[date, bool] = {}
        self.tags = {tag.code: tag for tag in Tag.objects.all()}
        self.places = self._places()
        self.staff = self._staff()
        self.made = _Made(places={p.area.pk: p for p in self.places})
        self.short = self.street.name.removesuffix("街道")
        self.first17: set[str] = set()
        self.credit_codes: set[str] = set()
        self.names: set[str] = set()

    def rng(self, part: str) -> random.Random:
        """Each part draws from its own sequence, so that changing one leaves the others."""
        return random.Random(f"{self.seed}:{part}")  # noqa: S311 - demo data, not secrets

    # Set-up ----------------------------------------------------------------------------------

    def _places(self) -> list[_Place]:
        by_pk = {a.pk: a for a in [*self.demo.zones, *self.demo.communities, *self.demo.grids]}
        places = []
        for area in self.demo.microgrids:
            grid = by_pk[area.parent_id or 0]
            community = by_pk[grid.parent_id or 0]
            zone = by_pk.get(community.parent_id or 0)
            # Microgrids are named “<estate><n>号微网格”; the case replay names building n of that
            # estate in its reports, so the same building exists here.
            stem = area.name.removesuffix("号微网格")
            digits = len(stem) - len(stem.rstrip("0123456789"))
            estate, number = stem[: len(stem) - digits], int(stem[len(stem) - digits :] or 1)
            park = grid.level == Level.DEDICATED_GRID
            places.append(_Place(area, grid, community, zone, estate, number, park))
        if not places:
            raise DomainError("该街道还没有微网格,无法生成登记数据")
        return places

    def _staff(self) -> _Staff:
        grants = (
            RoleGrant.objects.filter(
                revoked_at__isnull=True,
                area__path__startswith=self.street.path,
                role__in=[Role.GRID_WORKER, Role.LEADER],
            )
            .select_related("user", "area")
            .order_by("user__username")
        )
        staff = _Staff(grid_workers={}, street_leaders=[], zone_leaders={})
        for grant in grants:
            if grant.role == Role.GRID_WORKER:
                staff.grid_workers.setdefault(grant.area_id, grant.user)
            elif grant.area_id == self.street.pk:
                staff.street_leaders.append(grant.user)
            elif grant.area.level == Level.ZONE:
                staff.zone_leaders.setdefault(grant.area_id, grant.user)
        missing = [p.grid.name for p in self.places if p.grid.pk not in staff.grid_workers]
        if missing or not staff.street_leaders:
            raise DomainError("该街道的网格员或街道领导不全,无法生成登记数据")
        return staff

    # Helpers ---------------------------------------------------------------------------------

    def _moment(
        self, rng: random.Random, day: date, first: float = 8.5, last: float = 17
    ) -> datetime:
        """A moment of office hours on `day`, or on the next working day if it is a rest day."""
        while not self._workday(day):
            day += timedelta(days=1)
        minutes = rng.uniform(first * 60, last * 60)
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(minutes=minutes)

    def _workday(self, day: date) -> bool:
        if day not in self.workdays:
            self.workdays[day] = self.calendar.is_workday(day)
        return self.workdays[day]

    def _phone(self, rng: random.Random) -> str:
        return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"

    def _landline(self, rng: random.Random) -> str:
        return f"0571-8{rng.choice('23')}{rng.randrange(10**6):06d}"

    def _brand(self, rng: random.Random, pattern: str) -> str:
        """A name from `pattern` ({b}: two brand characters) not yet used in the street."""
        for _ in range(200):
            name = pattern.format(b="".join(rng.sample(BRAND_CHARS, 2)))
            if name not in self.names:
                self.names.add(name)
                return name
        raise DomainError("演示企业名称已用尽")

    def _credit_code(self, rng: random.Random, founded: int, *, individual: bool) -> str:
        """A valid 统一社会信用代码: 91 for companies, 92 for 个体工商户, registered in the
        district; organisations registered since 2015 have codes starting MA."""
        while True:
            if individual or founded >= 2015:
                body = "MA" + "".join(rng.choices(CREDIT_ALPHABET[:-1], k=6))
            else:
                body = f"{rng.randint(1, 7)}{rng.randrange(10**7):07d}"
            head = "92" if individual else "91"
            code = credit_code_complete(f"{head}{HOME_REGION}{organization_code_complete(body)}")
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    # Buildings and houses ------------------------------------------------------------------

    def buildings(self) -> None:
        rng = self.rng("buildings")
        weights = [rng.lognormvariate(0, 0.5) * (0.6 if p.park else 1) for p in self.places]
        budgets = _spread(self.scale.houses, weights, rng)
        next_number: dict[int, int] = defaultdict(int)
        for place in self.places:
            next_number[place.grid.pk] = max(next_number[place.grid.pk], place.number)
        plans: list[tuple[Building, _BuildingType, int, int, int, int]] = []
        for place, budget in zip(self.places, budgets, strict=True):
            remaining = budget
            number = place.number
            while True:
                kind = PARK_BUILDING if place.park else self._building_type(rng, remaining)
                floors, units, per_floor = self._dimensions(rng, kind, remaining)
                shops = rng.randint(*kind.shops) if kind.shops[1] else 0
                address = f"{place.community.name}{place.estate}{number}幢"
                building = Building(
                    street_id=self.street.pk,
                    area_id=place.area.pk,
                    compound=place.estate,
                    name=f"{number}幢",
                    address=address,
                    floors=floors,
                    unit_count=units,
                )
                plans.append((building, kind, floors, units, per_floor, shops))
                remaining -= floors * units * per_floor + shops
                if remaining < FILLER.floors[0] * FILLER.per_floor[0] or place.park:
                    break
                next_number[place.grid.pk] += 1
                number = next_number[place.grid.pk]
        self.made.buildings = Building.objects.bulk_create(
            [plan[0] for plan in plans], batch_size=BATCH
        )
        rows = _Rows(House, HOUSE_COLUMNS)
        homes = []
        for building, kind, floors, units, per_floor, shops in plans:
            for home, unit, floor, room, floor_area in self._houses(
                rng, building, kind, floors, units, per_floor, shops
            ):
                homes.append(home)
                rows.add(
                    self.street.pk,
                    home.area_id,
                    home.building_id,
                    home.address,
                    unit,
                    floor,
                    room,
                    home.use,
                    floor_area,
                    1,
                )
        rows.flush()
        pks = dict(House.objects.filter(street=self.street).values_list("address", "pk"))
        for home in homes:
            home.pk = pks[home.address]
        self.made.houses = homes

    def _building_type(self, rng: random.Random, remaining: int) -> _BuildingType:
        fits = [
            kind
            for kind in BUILDING_TYPES
            if kind.weight and kind.floors[0] * kind.units[0] * kind.per_floor[0] <= remaining
        ]
        if not fits:
            return FILLER
        return rng.choices(fits, weights=[kind.weight for kind in fits])[0]

    @staticmethod
    def _dimensions(
        rng: random.Random, kind: _BuildingType, remaining: int
    ) -> tuple[int, int, int]:
        floors, units = rng.randint(*kind.floors), rng.randint(*kind.units)
        per_floor = rng.randint(*kind.per_floor)
        cap = max(remaining, kind.floors[0] * kind.per_floor[0])
        while floors * units * per_floor > cap and units > 1:
            units -= 1
        while floors * units * per_floor > cap and floors > kind.floors[0]:
            floors -= 1
        return floors, units, per_floor

    def _houses(
        self,
        rng: random.Random,
        building: Building,
        kind: _BuildingType,
        floors: int,
        units: int,
        per_floor: int,
        shops: int,
    ) -> Iterator[tuple[_Home, str, int, str, Decimal]]:
        """The houses of a building: the home, its unit, floor, room and floor area."""
        area_id, building_id = building.area_id, building.pk
        for n in range(1, shops + 1):
            address = f"{building.address}底商{n}号"
            home = _Home(0, address, area_id, building_id, HouseUse.COMMERCIAL)
            yield home, "", 1, f"底商{n}号", Decimal(rng.randint(30, 120))
        park = kind is PARK_BUILDING
        low, high = kind.floor_area
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in range(1, per_floor + 1):
                    room = f"{floor}{door:02d}"
                    draw = rng.random()
                    if park:
                        use = HouseUse.COMMERCIAL
                    elif draw < RENTED_SHARE:
                        use = HouseUse.RENTED
                    elif draw < RENTED_SHARE + VACANT_SHARE:
                        use = HouseUse.VACANT
                    else:
                        use = HouseUse.OWNER_OCCUPIED
                    if park:
                        address, unit_no = f"{building.address}{room}室", ""
                    else:
                        address, unit_no = f"{building.address}{unit}单元{room}室", str(unit)
                    floor_area = Decimal(rng.randint(low * 100, high * 100)) / 100
                    yield (
                        _Home(0, address, area_id, building_id, use),
                        unit_no,
                        floor,
                        room,
                        floor_area,
                    )

    # Persons ---------------------------------------------------------------------------------

    def persons(self) -> None:
        rng = self.rng("persons")
        rows = _Rows(Person, PERSON_COLUMNS)
        residents: list[_Resident] = []
        for home in self.made.houses:
            if home.use not in (HouseUse.OWNER_OCCUPIED, HouseUse.RENTED):
                continue
            place = self.made.places[home.area_id]
            for values, resident in self._household(rng, home, place):
                rows.add(*values)
                residents.append(resident)
        rows.flush()
        pks = dict(Person.objects.filter(street=self.street).values_list("id_number_digest", "pk"))
        for resident in residents:
            resident.pk = pks[resident.digest]
        self._sensitive(rng, residents)
        taggings = _Rows(PersonTag, ("person", "tag"))
        for resident in residents:
            for code in sorted(resident.tags):
                taggings.add(resident.pk, self.tags[code].pk)
        taggings.flush()
        self.made.residents = residents

    def _household(
        self, rng: random.Random, home: _Home, place: _Place
    ) -> Iterator[tuple[tuple[Any, ...], _Resident]]:
        """The persons of one household, as the values of `PERSON_COLUMNS`."""
        rented = home.use == HouseUse.RENTED
        kinds = RENTED_HOUSEHOLDS if rented else OWNER_HOUSEHOLDS
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        migrant = rng.random() < (1 - REGISTERED_RENTERS if rented else MIGRANT_OWNERS)
        members = self._members(rng, kind, migrant)
        poor = not migrant and not rented and rng.random() < SUBSISTENCE_HOUSEHOLDS
        empty_nest = kind == "elderly_couple" and rng.random() < EMPTY_NEST_REGISTERED
        region = rng.choice(MIGRANT_REGIONS) if migrant else HOME_REGION
        household_type = HouseholdType.MIGRANT if migrant else HouseholdType.REGISTERED
        for member in members:
            # Sharers of a rented flat come from anywhere; a family shares its home county.
            own_region = rng.choice(MIGRANT_REGIONS) if kind == "sharers" else region
            born = self._birth_date(rng, member.age)
            number = self._id_number(rng, own_region, born, member.male)
            phone = self._personal_phone(rng, member.age)
            tags = self._care_and_general_tags(rng, member, kind, poor, empty_nest)
            protected = services.person_protected_fields(id_number=number, phone=phone)
            values = (
                self.street.pk,
                place.area.pk,
                home.pk,
                member.surname + self._given(rng, born.year, member.male),
                household_type,
                "",
                1,
                *(protected[name] for name in PROTECTED_COLUMNS),
            )
            resident = _Resident(
                0, place, member.age, member.male, tags, number, protected["id_number_digest"]
            )
            yield values, resident

    def _members(self, rng: random.Random, kind: str, migrant: bool) -> list[_Member]:
        surnames = NATIONAL_SURNAMES if migrant else LOCAL_SURNAMES

        def surname() -> str:
            return rng.choices(list(surnames), weights=list(surnames.values()))[0]

        family = surname()
        if kind == "alone_elderly":
            return [_Member(_band_age(rng, ALONE_AGES), rng.random() < 0.3, family, "elder")]
        if kind == "elderly_couple":
            husband = _band_age(rng, ELDER_AGES)
            wife = max(60, husband - rng.randint(0, 5))
            return [
                _Member(husband, True, family, "elder"),
                _Member(wife, False, surname(), "elder"),
            ]
        if kind == "single":
            return [_Member(rng.randint(22, 58), rng.random() < 0.55, family, "adult")]
        if kind == "young_couple":
            husband = rng.randint(24, 38)
            return [
                _Member(husband, True, family, "adult"),
                _Member(max(22, husband - rng.randint(0, 4)), False, surname(), "adult"),
            ]
        if kind == "sharers":
            return [
                _Member(round(rng.triangular(18, 55, 27)), rng.random() < 0.6, surname(), "adult")
                for _ in range(rng.choices((2, 3, 4, 5, 6), weights=(15, 30, 30, 15, 10))[0])
            ]
        # Three generations under one roof are young parents with the father's parents.
        father = rng.randint(29, 62) if kind == "nuclear" else rng.randint(27, 48)
        mother = max(23, father - rng.randint(0, 4))
        members = [
            _Member(father, True, family, "adult"),
            _Member(mother, False, surname(), "adult"),
        ]
        children = rng.choices((1, 2, 3), weights=(50, 44, 6))[0]
        for _ in range(children):
            # Born when the mother was 22 to 38; grown children over 32 have homes of their own.
            age = mother - rng.randint(22, min(38, mother))
            while age > 32:
                age = mother - rng.randint(22, min(38, mother))
            members.append(
                _Member(age, rng.random() < 0.52, family, "child" if age < 18 else "adult")
            )
        if kind == "three_generations":
            grand = min(95, max(56, father + rng.randint(22, 32)))
            members.append(_Member(grand, True, family, "elder"))
            if rng.random() < 0.9:
                members.append(
                    _Member(max(55, grand - rng.randint(0, 5)), False, surname(), "elder")
                )
        return members

    def _birth_date(self, rng: random.Random, age: int) -> date:
        """A birthday that makes the person `age` today (the 29th of February aside)."""
        latest = date(self.today.year - age, self.today.month, min(self.today.day, 28))
        return latest - timedelta(days=rng.randrange(365))

    def _id_number(self, rng: random.Random, region: str, born: date, male: bool) -> str:
        while True:
            sequence = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
            if first17 not in self.first17:
                self.first17.add(first17)
                return resident_id_complete(first17)

    def _personal_phone(self, rng: random.Random, age: int) -> str:
        if age < 14 or (age >= 85 and rng.random() < 0.5):
            return ""
        if age >= 70 and rng.random() < 0.3:
            return self._landline(rng)
        return self._phone(rng)

    def _given(self, rng: random.Random, born: int, male: bool) -> str:
        era = _era(born)
        if rng.random() < 0.5:
            return rng.choice(GIVEN_NAMES[era, male])
        first, second = GIVEN_CHARS[era, male]
        if rng.random() < SINGLE_NAME_SHARE[era]:
            return rng.choice(second)
        return rng.choice(first) + rng.choice(second)

    def _care_and_general_tags(
        self, rng: random.Random, member: _Member, kind: str, poor: bool, empty_nest: bool
    ) -> set[str]:
        tags = set()
        if kind == "alone_elderly":
            tags.add("living_alone")
        if empty_nest:
            tags.add("empty_nest")
        if member.age >= 80:
            tags.add("very_old")
        if rng.random() < (0.04 if member.age >= 60 else 0.012):
            tags.add("disabled")
        if poor:
            tags.add("subsistence")
        if member.role == "child" and (poor or rng.random() < 0.002):
            tags.add("child_in_need")
        if member.age >= 18:
            if rng.random() < 0.06 + (0.06 if member.age >= 60 else 0):
                tags.add("party_member")
            if rng.random() < (0.04 if member.male and member.age >= 22 else 0.002):
                tags.add("veteran")
            if rng.random() < 0.0025:
                tags.add("mental_disorder")
        if 16 <= member.age <= 75 and rng.random() < 0.04:
            tags.add("volunteer")
        return tags

    def _sensitive(self, rng: random.Random, residents: list[_Resident]) -> None:
        """The few under community correction, resettlement assistance or watch, mostly men of
        working age, as many as the seeds count."""
        adults = [r for r in residents if 20 <= r.age <= 60]
        weights = list(accumulate(6 if r.male else 1 for r in adults))
        chosen: set[int] = set()
        for code, count in (
            ("community_correction", self.scale.correction),
            ("resettlement", self.scale.resettlement),
            ("key_person", self.scale.key_persons),
        ):
            picked = 0
            while picked < count and len(chosen) < len(adults):
                index = rng.choices(range(len(adults)), cum_weights=weights)[0]
                if index not in chosen:
                    chosen.add(index)
                    adults[index].tags.add(code)
                    picked += 1

    # Enterprises -----------------------------------------------------------------------------

    def enterprises(self) -> None:
        rng = self.rng("enterprises")
        offices = [h for h in self.made.houses if h.use == HouseUse.COMMERCIAL]
        park_offices = [h for h in offices if self.made.places[h.area_id].park]
        shopfronts = [h for h in offices if not self.made.places[h.area_id].park]
        rng.shuffle(park_offices)
        rng.shuffle(shopfronts)
        town = [p for p in self.places if not p.park]
        buildings = {b.pk: b for b in self.made.buildings}
        road_numbers: dict[str, int] = defaultdict(int)

        def located(pool: list[_Home]) -> tuple[_Place, str, Building | None]:
            if pool:
                house = pool.pop()
                return (
                    self.made.places[house.area_id],
                    house.address,
                    buildings[house.building_id or 0],
                )
            place = rng.choice(town)
            road = rng.choice(ROADS)
            road_numbers[road] += rng.randint(1, 6)
            return place, f"{self.short}{road}{road_numbers[road]}号", None

        scale = self.scale
        companies = scale.enterprises - scale.shops
        rows: list[Enterprise] = []
        for index in range(scale.enterprises):
            above = index < scale.above_scale
            shop = index >= companies
            if shop:
                venue = rng.choices(SMALL_VENUES, weights=[w for _, w in SMALL_VENUES])[0][0]
                name = self._brand(rng, f"萧山区{self.short}{{b}}{venue}")
                industry = "住宿和餐饮" if venue in ("小吃店", "小旅馆") else "居民服务"
                place, address, building = located(shopfronts)
                founded = rng.randint(2008, self.year)
                employees = rng.randint(1, 8)
            else:
                industry, _, _, words = rng.choices(
                    INDUSTRIES, weights=[i[1] if above else i[2] for i in INDUSTRIES]
                )[0]
                pattern = "浙江{b}" if above and rng.random() < 0.3 else "杭州{b}"
                suffix = "股份有限公司" if above and rng.random() < 0.25 else "有限公司"
                name = self._brand(rng, pattern + rng.choice(words) + suffix)
                in_park = rng.random() < (0.55 if above else 0.3)
                place, address, building = located(park_offices if in_park else [])
                founded = rng.randint(1993, 2018) if above else rng.randint(2003, self.year)
                employees = rng.randint(100, 1500) if above else rng.randint(3, 99)
            contact = rng.choices(list(LOCAL_SURNAMES), weights=list(LOCAL_SURNAMES.values()))[0]
            contact_phone = (
                self._landline(rng) if above and rng.random() < 0.4 else self._phone(rng)
            )
            fields = services.enterprise_fields(
                name=name,
                credit_code=self._credit_code(rng, founded, individual=shop),
                scale=EnterpriseScale.ABOVE if above else EnterpriseScale.BELOW,
                address=address,
                industry=industry,
                contact_name=contact + rng.choice(("经理", "总", "主任", "先生", "女士")),
                contact_phone=contact_phone,
                employees=employees,
                building=building,
            )
            rows.append(Enterprise(street_id=self.street.pk, area_id=place.area.pk, **fields))
        saved = Enterprise.objects.bulk_create(rows, batch_size=BATCH)
        self.made.above = saved[: scale.above_scale]
        self.made.below = saved[scale.above_scale :]
        self._libraries(rng, saved)

    def _libraries(self, rng: random.Random, enterprises: list[Enterprise]) -> None:
        companies = [e for e in enterprises if e.credit_code.startswith("91")]
        above = [e for e in companies if e.scale == EnterpriseScale.ABOVE]
        below = [e for e in companies if e.scale == EnterpriseScale.BELOW]
        count = self.scale.libraries
        choices = [
            (Library.RETENTION, rng.sample(above, min(len(above), round(count * 0.25)))),
            (Library.CULTIVATION, rng.sample(below, min(len(below), round(count * 0.4)))),
        ]
        taken = {e.pk for _, members in choices for e in members}
        rest = [e for e in companies if e.pk not in taken]
        choices.append((Library.SERVICE, rng.sample(rest, min(len(rest), count - len(taken)))))
        entries = []
        year_end = date(self.year, 12, 31)
        for library, members in choices:
            for enterprise in members:
                entered = date(rng.randint(2021, self.year), rng.randint(1, 12), rng.randint(1, 28))
                left = None
                note = LIBRARY_NOTES[library]
                if rng.random() < 0.15 and entered < year_end:
                    left = entered + timedelta(days=rng.randint(60, 900))
                    left = min(left, year_end)
                    note = (
                        "培育期满,转入日常服务"
                        if library == Library.CULTIVATION
                        else "服务事项已办结"
                    )
                entries.append(
                    LibraryEntry(
                        enterprise=enterprise,
                        library=library,
                        entered_on=entered,
                        left_on=left,
                        note=note,
                    )
                )
        LibraryEntry.objects.bulk_create(entries, batch_size=BATCH)

    # Facilities ------------------------------------------------------------------------------

    def facilities(self) -> None:
        rng = self.rng("facilities")
        rows: list[Facility] = []
        serial: dict[str, int] = defaultdict(int)

        def add(
            kind: str, place: _Place, name: str, address: str, owner: str, cycle: int, **extra: Any
        ) -> None:
            prefix = FACILITY_PREFIXES[kind]
            serial[prefix] += 1
            overdue = rng.random() < 0.08
            days = cycle + rng.randint(1, 60) if overdue else rng.randint(0, cycle - 1)
            rows.append(
                Facility(
                    street_id=self.street.pk,
                    area_id=place.area.pk,
                    code=f"{prefix}{serial[prefix]:06d}",
                    kind=kind,
                    name=name,
                    address=address,
                    owner=owner,
                    inspection_cycle_days=cycle,
                    last_inspected_on=self.today - timedelta(days=days),
                    **extra,
                )
            )

        places = self.made.places
        companies = {
            c.pk: PROPERTY_COMPANIES[i % len(PROPERTY_COMPANIES)]
            for i, c in enumerate(self.demo.communities)
        }
        for building in self.made.buildings:
            if (building.floors or 0) < ELEVATOR_FLOORS:
                continue
            place = places[building.area_id]
            for unit in range(1, (building.unit_count or 1) + 1):
                add(
                    FacilityKind.ELEVATOR,
                    place,
                    f"{building.compound}{building.name}{unit}单元电梯",
                    building.address,
                    f"{companies[place.community.pk]}{place.estate}项目部",
                    15,
                )
        shops = [e for e in self.made.below if e.credit_code.startswith("92")]
        for shop in shops:
            add(
                FacilityKind.SMALL_VENUE,
                places[shop.area_id],
                shop.name.removeprefix(f"萧山区{self.short}"),
                shop.address,
                shop.contact_name,
                30,
                enterprise=shop,
            )
        town = [p for p in self.places if not p.park]
        road_numbers: dict[str, int] = defaultdict(int)
        for _ in range(max(0, self.scale.small_venues - len(shops))):
            place = rng.choice(town)
            road = rng.choice(ROADS)
            road_numbers[road] += rng.randint(1, 4)
            venue = rng.choices(SMALL_VENUES, weights=[w for _, w in SMALL_VENUES])[0][0]
            owner = rng.choices(list(LOCAL_SURNAMES), weights=list(LOCAL_SURNAMES.values()))[0]
            add(
                FacilityKind.SMALL_VENUE,
                place,
                self._brand(rng, "{b}" + venue),
                f"{self.short}{road}{road_numbers[road]}号",
                owner + rng.choice(("老板", "店主")),
                30,
            )
        for kind, count, cycle in (
            (FacilityKind.CAMERA, self.scale.cameras, 90),
            (FacilityKind.CHARGER, self.scale.chargers, 30),
            (FacilityKind.GAS, self.scale.gas, 90),
        ):
            for _ in range(count):
                building = rng.choice(self.made.buildings)
                place = places[building.area_id]
                name, owner = self._thing(rng, kind, building, companies[place.community.pk])
                add(kind, place, name, building.address, owner, cycle)
        for _ in range(max(0, self.scale.facilities - len(rows))):
            building = rng.choice(self.made.buildings)
            add(
                FacilityKind.HYDRANT,
                places[building.area_id],
                rng.choice(("室外消火栓", "地上式消火栓", "室内消火栓箱")),
                f"{building.address}{rng.choice(('东侧', '西侧', '南侧', '北侧', '楼道'))}",
                "社区消防站"
                if rng.random() < 0.3
                else f"{companies[places[building.area_id].community.pk]}",
                30,
            )
        Facility.objects.bulk_create(rows, batch_size=BATCH)

    @staticmethod
    def _thing(rng: random.Random, kind: str, building: Building, company: str) -> tuple[str, str]:
        if kind == FacilityKind.CAMERA:
            spot = rng.choice(("东门", "西门", "南门", "北门", "停车场入口", "单元门口", "垃圾房"))
            return f"{building.compound}{spot}监控", company
        if kind == FacilityKind.CHARGER:
            return f"{building.compound}{building.name}电动自行车充电桩", rng.choice(
                CHARGER_OPERATORS
            )
        return (
            f"{building.compound}{rng.choice(('燃气调压柜', '燃气调压箱', '燃气阀门井'))}",
            GAS_OPERATOR,
        )

    # Visits ----------------------------------------------------------------------------------

    def visits(self, *, raise_cases: bool) -> list[RaisedCase]:
        """Care visits from the start of the year to today, the year's enterprise visits; the
        visits whose problems become cases are returned for the case replay to make."""
        rng = self.rng("visits")
        start = datetime(self.year, 1, 1, tzinfo=self.tz)
        rows = _Rows(Visit, VISIT_COLUMNS)
        intervals = {code: tag.visit_interval_days for code, tag in self.tags.items()}
        for resident in self.made.residents:
            cares = [days for code in resident.tags if (days := intervals.get(code))]
            if not cares:
                continue
            interval = min(cares)
            worker = self.staff.grid_workers[resident.place.grid.pk].pk
            area_id = resident.place.area.pk
            lapsed = rng.random() < LAPSED_CARE
            stop = (
                self.until - timedelta(days=interval + rng.randint(1, 20)) if lapsed else self.until
            )
            moment = self._moment(rng, (start + timedelta(days=rng.uniform(0, interval))).date())
            while moment < stop:
                problem = rng.choice(CARE_PROBLEMS) if rng.random() < 0.02 else ""
                summary = rng.choice(CARE_SUMMARIES)
                rows.add(
                    self.street.pk, area_id, worker, moment, resident.pk, None, summary, problem
                )
                step = interval * rng.uniform(0.7, 1.0)
                moment = self._moment(rng, (moment + timedelta(days=step)).date())
        raised: list[RaisedCase] = []
        for enterprises, total, raising in (
            (self.made.above, self.scale.above_visits, self.scale.above_raised),
            (self.made.below, self.scale.below_visits, self.scale.below_raised),
        ):
            self._enterprise_visits(rng, rows, enterprises, total, raising, raise_cases, raised)
        rows.flush()
        return raised

    def _enterprise_visits(
        self,
        rng: random.Random,
        rows: _Rows,
        enterprises: list[Enterprise],
        total: int,
        raising: int,
        raise_cases: bool,
        raised: list[RaisedCase],
    ) -> None:
        if not enterprises:
            return
        counts = _spread(total, [1.0] * len(enterprises), rng)
        slots = [e for e, n in zip(enterprises, counts, strict=True) for _ in range(n)]
        raising_slots = set(rng.sample(range(len(slots)), min(raising, len(slots))))
        year_days = (date(self.year, 12, 31) - date(self.year, 1, 1)).days
        horizon = min(datetime(self.year + 1, 1, 1, tzinfo=self.tz), self.until)
        type_codes = list(RAISED_TYPES)
        for index, enterprise in enumerate(slots):
            place = self.made.places[enterprise.area_id]
            moment = self._moment(
                rng, date(self.year, 1, 1) + timedelta(days=rng.randint(0, year_days)), 9, 17
            )
            if moment >= horizon:
                continue
            visitor = self._enterprise_visitor(rng, enterprise, place)
            summary = rng.choice(ENTERPRISE_SUMMARIES)
            if index in raising_slots:
                code = rng.choices(type_codes, weights=list(RAISED_TYPES.values()))[0]
                phrase = rng.choice(PHRASES[code]).format(n=rng.randint(2, 6))
                problems = f"企业反映:{phrase}"
                if raise_cases:
                    raised.append(
                        RaisedCase(
                            moment=moment,
                            area=place.area,
                            type_code=code,
                            report=partial(
                                _visit_raising_case,
                                enterprise_pk=enterprise.pk,
                                visitor=visitor,
                                moment=moment,
                                summary=summary,
                                problems=problems,
                            ),
                        )
                    )
                    continue
            else:
                problems = rng.choice(ENTERPRISE_SOLVED) if rng.random() < 0.08 else ""
            rows.add(
                self.street.pk,
                place.area.pk,
                visitor.pk,
                moment,
                None,
                enterprise.pk,
                summary,
                problems,
            )

    def _enterprise_visitor(
        self, rng: random.Random, enterprise: Enterprise, place: _Place
    ) -> User:
        """Street leaders and zone chiefs visit the large enterprises; grid workers the rest."""
        draw = rng.random()
        if enterprise.scale == EnterpriseScale.ABOVE and draw < 0.5:
            return rng.choice(self.staff.street_leaders)
        zone_leader = self.staff.zone_leaders.get(place.zone.pk) if place.zone else None
        if enterprise.scale == EnterpriseScale.ABOVE and draw < 0.75 and zone_leader is not None:
            return zone_leader
        return self.staff.grid_workers[place.grid.pk]

    # Verification (楼小通核查) -----------------------------------------------------------------

    def verification(self) -> int:
        """The street leader orders the persons of a few communities verified in spring; the
        grid workers check nearly all within weeks, correcting the phones that changed."""
        rng = self.rng("verification")
        by_community: dict[int, list[_Resident]] = defaultdict(list)
        for resident in self.made.residents:
            if not resident.place.park:
                by_community[resident.place.community.pk].append(resident)
        communities = [c for c in self.demo.communities if by_community[c.pk]]
        rng.shuffle(communities)
        chosen: list[Area] = []
        covered = 0
        for community in communities:
            if covered >= self.scale.verified * 0.95:
                break
            chosen.append(community)
            covered += len(by_community[community.pk])
        issued = self._moment(rng, date(self.year, 3, 3), 9, 10)
        leader = self.staff.street_leaders[0]
        with clock.acting_at(issued):
            task = services.verification_task_create(
                actor=leader,
                title=f"{self.year}年楼小通人口信息核查",
                record_kind=RecordKind.PERSON,
                areas=chosen,
                due_on=issued.date() + timedelta(days=45),
                note="逐户核对居住人员姓名、身份证号、联系电话和居住房屋,人户一致",
            )
        residents = {r.pk: r for c in chosen for r in by_community[c.pk]}
        items = list(task.items.order_by("pk"))
        sessions: dict[tuple[int, datetime], list[VerificationItem]] = defaultdict(list)
        checked = 0
        for item in items:
            draw = rng.random()
            if draw < 0.02:
                continue  # moved away or never at home: still pending
            resident = residents[item.person_id or 0]
            worker = self.staff.grid_workers[resident.place.grid.pk]
            day = issued.date() + timedelta(days=round(rng.triangular(1, 44, 10)))
            moment = (
                self._moment(rng, day, 9, 11.5)
                if rng.random() < 0.5
                else self._moment(rng, day, 14, 17)
            )
            checked += 1
            if draw < 0.035 and resident.age >= 18:
                self._correct(item, worker, resident, moment, rng)
            else:
                # Grid workers check a microgrid's list in one round; one time per round.
                sessions[(worker.pk, moment.replace(minute=0, second=0, microsecond=0))].append(
                    item
                )
        for (worker_pk, moment), group in sorted(
            sessions.items(), key=lambda s: (s[0][1], s[0][0])
        ):
            pks = [item.pk for item in group]
            VerificationItem.objects.filter(pk__in=pks).update(
                status=ItemStatus.VERIFIED, checked_by_id=worker_pk, checked_at=moment
            )
            Person.objects.filter(pk__in=[item.person_id for item in group]).update(
                verified_at=moment
            )
        return checked

    def _correct(
        self,
        item: VerificationItem,
        worker: User,
        resident: _Resident,
        moment: datetime,
        rng: random.Random,
    ) -> None:
        """A phone found changed: the record is corrected, then the item marked so."""
        phone = self._phone(rng)
        with clock.acting_at(moment):
            person = Person.objects.select_related("area").get(pk=resident.pk)
            fields = services.person_protected_fields(id_number=resident.id_number, phone=phone)
            services.record_update(
                actor=worker,
                record=person,
                expected_version=person.version,
                fields={k: v for k, v in fields.items() if k.startswith("phone_")},
            )
            services.verification_item_check(
                actor=worker, item=item, status=ItemStatus.CORRECTED, note="联系电话已变更,已更正"
            )


@contextmanager
def _roomy_sqlite_cache() -> Iterator[None]:
    """SQLite's default 2 MB page cache thrashes on the random keys of the digest indexes when
    200,000 persons go in in one transaction; a larger one for the run keeps them in memory."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -1048576")  # KiB: up to 1 GiB, used as needed
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


def _visit_raising_case(
    *,
    enterprise_pk: int,
    visitor: User,
    moment: datetime,
    summary: str,
    problems: str,
) -> Case:
    """Log a visit whose problem the visitor turns into the enterprise's appeal case."""
    enterprise = Enterprise.objects.select_related("area").get(pk=enterprise_pk)
    visit = services.visit_log(
        actor=visitor,
        enterprise=enterprise,
        summary=summary,
        problems=problems,
        visited_at=moment,
        raise_case=True,
    )
    if visit.case is None:
        raise DomainError("走访反映的问题没有转为诉求事件")
    return visit.case


def demo_registry(
    *,
    demo: DemoStreet,
    year: int,
    scale: str,
    raise_cases: bool = True,
    progress: Callable[[str], None] | None = None,
    commit_often: bool = False,
) -> RegistryReport:
    """Fill the demo street's registry; the same seed gives the same registry on the same day.

    With `raise_cases` the enterprise visits whose problems became appeal cases are returned
    (in `raised`) for `demo_cases` to replay at their moments; without it they are logged as
    visits that noted the problems. With `commit_often` each batch commits on its own instead
    of the whole registry at once: a server already running beside the build (make run) gets
    its turn to write between batches, where SQLite would make it wait for minutes.
    """
    if scale not in REGISTRY_SCALES:
        raise DomainError(f"规模只能是 {'、'.join(REGISTRY_SCALES)}")
    if datetime(year, 1, 1, tzinfo=timezone.get_default_timezone()) >= clock.now():
        raise DomainError(f"{year}年尚未开始,无法生成该年的走访")
    if Person.objects.filter(street=demo.street).exists():
        raise DomainError(f"街道“{demo.street.name}”已有登记数据,未重复生成")
    services.registry_defaults_seed()
    started = time.monotonic()
    registry = _Registry(demo, year, REGISTRY_SCALES[scale])
    parts: list[tuple[str, float]] = []

    def part(label: str, step: Callable[[], Any], describe: Callable[[], str]) -> Any:
        began = time.monotonic()
        result = step()
        seconds = time.monotonic() - began
        parts.append((label, seconds))
        if progress is not None:
            progress(f"  {label}:{describe()},用时 {seconds:.1f} 秒")
        return result

    made = registry.made
    with _roomy_sqlite_cache(), nullcontext() if commit_often else transaction.atomic():
        part(
            "楼栋与房屋",
            registry.buildings,
            lambda: f"楼栋 {len(made.buildings):,} 幢,房屋 {len(made.houses):,} 套",
        )
        part("居民与标签", registry.persons, lambda: f"居民 {len(made.residents):,} 名")
        part(
            "企业",
            registry.enterprises,
            lambda: f"企业 {len(made.above) + len(made.below):,} 家(规上 {len(made.above)} 家)",
        )
        part(
            "设施",
            registry.facilities,
            lambda: f"设施 {Facility.objects.filter(street=demo.street).count():,} 处",
        )
        raised = part(
            "走访",
            partial(registry.visits, raise_cases=raise_cases),
            lambda: f"走访 {Visit.objects.filter(street=demo.street).count():,} 次",
        )
        checked = part("核查", registry.verification, lambda: "楼小通核查任务 1 项")
    return RegistryReport(
        counts=registry_counts(street=demo.street),
        tags=tag_counts(street=demo.street),
        verified=checked,
        parts=parts,
        raised=raised,
        seconds=time.monotonic() - started,
    )


def registry_counts(*, street: Area) -> dict[str, int]:
    """The street's registry by kind, as the demo command prints it."""
    persons = Person.objects.filter(street=street)
    enterprises = Enterprise.objects.filter(street=street)
    return {
        "楼栋": Building.objects.filter(street=street).count(),
        "房屋": House.objects.filter(street=street).count(),
        "居民": persons.count(),
        "流动人口": persons.filter(household_type=HouseholdType.MIGRANT).count(),
        "企业": enterprises.count(),
        "规上企业": enterprises.filter(scale=EnterpriseScale.ABOVE).count(),
        "入库企业": LibraryEntry.objects.filter(enterprise__street=street)
        .values("enterprise")
        .distinct()
        .count(),
        "设施": Facility.objects.filter(street=street).count(),
        "九小场所": Facility.objects.filter(street=street, kind=FacilityKind.SMALL_VENUE).count(),
        "走访": Visit.objects.filter(street=street).count(),
    }


def tag_counts(*, street: Area) -> dict[str, int]:
    """Persons of the street by tag name, in the tags' order."""
    tagged = dict(
        PersonTag.objects.filter(person__street=street)
        .values_list("tag_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {tag.name: tagged.get(tag.pk, 0) for tag in Tag.objects.order_by("sort", "code")}


@dataclass
class LinkReport:
    cases: int
    links: int
    seconds: float


class _Linker:
    """Reads the street's registry once and picks, for a case, the records it is about."""

    def __init__(self, street: Area, rng: random.Random) -> None:
        self.rng = rng
        today = timezone.localdate(clock.now())
        self.elderly_born = today.replace(year=today.year - 60, day=min(today.day, 28))
        self.adult_born = today.replace(year=today.year - 18, day=min(today.day, 28))
        self.grid_of = dict(
            Area.objects.filter(street=street, level=Level.MICROGRID).values_list("pk", "parent_id")
        )
        self.building_at: dict[str, int] = {}
        self.buildings_in: dict[int, list[int]] = defaultdict(list)
        for pk, address, area_id in (
            Building.objects.filter(street=street)
            .values_list("pk", "address", "area_id")
            .order_by("pk")
        ):
            self.building_at[address] = pk
            self.buildings_in[area_id].append(pk)
        self.houses_of: dict[int, list[tuple[int, str, int, str]]] = defaultdict(list)
        for pk, building_id, use, floor, unit in (
            House.objects.filter(street=street)
            .values_list("pk", "building_id", "use", "floor", "unit_no")
            .order_by("pk")
        ):
            self.houses_of[building_id].append((pk, use, floor or 0, unit))
        self.people_of: dict[int, list[tuple[int, date]]] = defaultdict(list)  # by house
        self.building_people: dict[int, list[tuple[int, int, date]]] = defaultdict(list)
        for pk, house_id, building_id, born in (
            Person.objects.filter(street=street)
            .values_list("pk", "house_id", "house__building_id", "birth_date")
            .order_by("pk")
        ):
            self.people_of[house_id].append((pk, born))
            self.building_people[building_id].append((pk, house_id, born))
        self.tagged: dict[tuple[str, int], list[int]] = defaultdict(list)  # (tag, area) → persons
        for pk, code, area_id in (
            PersonTag.objects.filter(person__street=street)
            .values_list("person_id", "tag__code", "person__area_id")
            .order_by("person_id", "tag__code")
        ):
            self.tagged[(code, area_id)].append(pk)
        self.facilities: dict[tuple[str, int], list[int]] = defaultdict(list)
        for pk, kind, area_id in (
            Facility.objects.filter(street=street)
            .values_list("pk", "kind", "area_id")
            .order_by("pk")
        ):
            self.facilities[(kind, area_id)].append(pk)
        self.enterprises: dict[int, list[int]] = defaultdict(list)
        for pk, area_id in (
            Enterprise.objects.filter(street=street).values_list("pk", "area_id").order_by("pk")
        ):
            self.enterprises[area_id].append(pk)
        self.areas_of_grid: dict[int, list[int]] = defaultdict(list)
        for area_id, grid_id in sorted(self.grid_of.items()):
            self.areas_of_grid[grid_id].append(area_id)

    def _near(
        self, pools: dict[Any, list[int]], key: Callable[[int], Any], area_id: int
    ) -> int | None:
        """One record of the case's microgrid, else of its grid."""
        here = pools.get(key(area_id), [])
        if here:
            return self.rng.choice(here)
        around = [
            pk
            for other in self.areas_of_grid.get(self.grid_of.get(area_id, 0), [])
            for pk in pools.get(key(other), [])
        ]
        return self.rng.choice(around) if around else None

    def records(self, target: str, area_id: int, address: str) -> list[tuple[str, int]]:
        """The (kind, pk) of the records a case of `target` at `address` is about."""
        kind, _, detail = target.partition(":")
        rng = self.rng
        building = self.building_at.get(address)
        if building is None and self.buildings_in.get(area_id):
            building = rng.choice(self.buildings_in[area_id])
        if kind == "facility":
            pk = self._near(self.facilities, lambda a: (detail, a), area_id)
            return [("facility", pk)] if pk else []
        if kind == "enterprise":
            pk = self._near(self.enterprises, lambda a: a, area_id)
            return [("enterprise", pk)] if pk else []
        if building is None:
            return []
        if kind == "building":
            return [("building", building)]
        houses = self.houses_of.get(building, [])
        if kind == "house":
            wanted = [h for h in houses if (h[1] == HouseUse.RENTED) or detail != "rented"]
            lived = [h for h in wanted if h[1] != HouseUse.VACANT] or wanted
            return [("house", rng.choice(lived)[0])] if lived else []
        if kind == "person" and detail and detail not in ("elderly", "child"):
            pk = self._near(self.tagged, lambda a: (detail, a), area_id)
            return [("person", pk)] if pk else []
        people = self.building_people.get(building, [])
        if detail == "elderly":
            people = [p for p in people if p[2] <= self.elderly_born]
        elif detail == "child":
            people = [p for p in people if p[2] > self.adult_born]
        else:
            people = [p for p in people if p[2] <= self.adult_born]
        if not people:
            return []
        first = rng.choice(people)
        if kind == "couple":
            partner = [p for p in people if p[1] == first[1] and p[0] != first[0]]
            return [("person", first[0])] + (
                [("person", rng.choice(partner)[0])] if partner else []
            )
        if kind == "neighbours":
            others = [p for p in people if p[1] != first[1]]
            return [("person", first[0])] + ([("person", rng.choice(others)[0])] if others else [])
        return [("person", first[0])]


def demo_case_links(*, demo: DemoStreet) -> LinkReport:
    """Point a share of the street's cases at the records they are about (a hazard's building
    or venue, a dispute's parties, an elderly person's file), in their own microgrid or grid."""
    started = time.monotonic()
    street = demo.street
    rng = random.Random(f"shanzhi:{demo.seed}:{street.code}:links")  # noqa: S311 - demo data
    linker = _Linker(street, rng)
    already = set(CaseLink.objects.filter(case__street=street).values_list("case_id", flat=True))
    cases = (
        Case.objects.filter(street=street, case_type__code__in=list(LINK_TARGETS))
        .exclude(state__in=[State.REJECTED, State.MERGED])
        .values_list("pk", "area_id", "address", "case_type__code")
        .order_by("pk")
    )
    links: list[CaseLink] = []
    linked = 0
    for pk, area_id, address, code in cases:
        if pk in already or rng.random() >= LINK_SHARE:
            continue
        records = linker.records(LINK_TARGETS[code], area_id, address)
        if records:
            linked += 1
            links.extend(CaseLink(case_id=pk, **{f"{kind}_id": record}) for kind, record in records)
    CaseLink.objects.bulk_create(links, batch_size=BATCH)
    return LinkReport(cases=linked, links=len(links), seconds=time.monotonic() - started)
