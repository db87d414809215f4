"""A year of the demo street's cases, made by replaying the year through the real case services.

Every case is a small script of what happened to it (reported, accepted, dispatched, claimed,
perhaps returned or extended, resolved, called back). The scripts of all cases run interleaved in
the order of their moments, each step inside `clock.acting_at(moment)`, so the database at every
step looks as it did at that moment (a duplicate is merged into a case that is still open then),
case numbers follow the order of reporting and every action-log row carries a true time. Steps that
would fall after the end of the year are not taken: the last weeks' cases stay open.
"""

import heapq
import io
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone
from PIL import Image

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, Unit, UnitKind, User
from shanzhi.analytics.periods import Period
from shanzhi.analytics.rollup import rollup_deferred
from shanzhi.analytics.selectors import Figure, Scope, figures_compute
from shanzhi.areas.models import Area, Level
from shanzhi.cases import services
from shanzhi.cases.flows import GENERAL, flow_for_type, states_of
from shanzhi.cases.models import (
    Case,
    CaseType,
    Priority,
    Satisfaction,
    Source,
    State,
)
from shanzhi.errors import DomainError
from shanzhi.registry.models import Enterprise
from shanzhi.reports.compose import operator
from shanzhi.workdays.calendar import WorkCalendar, workday_end

from .flow_stories import STORIES
from .generator import DemoStreet
from .hotspots import demo_hotspots
from .places import GIVEN_CHARS, PLACE_SYLLABLES, SURNAMES

# How many cases a year brings, per scale. Every step runs through the real services (about 25 ms
# a case on SQLite, the figures' roll-up rebuilt once at the end), so `full` is sized to replay
# in about five minutes rather than to the 20,000-odd a street of this size sees; `small` is for
# tests.
VOLUMES = {"full": 20_000, "small": 360}

SOURCE_SHARES: dict[str, float] = {
    Source.GRID_PATROL: 0.35,
    Source.RESIDENT: 0.20,
    Source.HOTLINE: 0.25,
    Source.POLICE: 0.05,
    Source.LEADER: 0.03,
    Source.ENTERPRISE: 0.05,
    Source.PETITION: 0.07,
}

# What each channel brings, by top-level category of the catalogue.
CATEGORY_MIX: dict[str, dict[str, float]] = {
    Source.GRID_PATROL: {
        "安全隐患": 30,
        "城市管理": 20,
        "环境卫生": 20,
        "物业管理": 10,
        "社会治安": 10,
        "民生服务": 7,
        "矛盾纠纷": 3,
    },
    Source.RESIDENT: {
        "物业管理": 25,
        "环境卫生": 22,
        "城市管理": 18,
        "矛盾纠纷": 10,
        "民生服务": 10,
        "社会治安": 8,
        "安全隐患": 7,
    },
    Source.HOTLINE: {
        "城市管理": 22,
        "环境卫生": 22,
        "物业管理": 22,
        "矛盾纠纷": 10,
        "民生服务": 10,
        "社会治安": 7,
        "安全隐患": 7,
    },
    Source.POLICE: {"矛盾纠纷": 55, "社会治安": 40, "安全隐患": 5},
    Source.LEADER: {
        "安全隐患": 25,
        "城市管理": 20,
        "民生服务": 20,
        "物业管理": 15,
        "矛盾纠纷": 10,
        "企业诉求": 10,
    },
    Source.ENTERPRISE: {"企业诉求": 100},
    Source.PETITION: {"信访": 100},
}

# Within a category some matters are much commoner than others; unlisted types weigh 1.
TYPE_WEIGHTS: dict[str, float] = {
    "CG-TC-01": 2.5,
    "CG-SR-01": 2.0,
    "CG-SZ-01": 1.5,
    "HW-LJ-01": 2.5,
    "HW-LJ-02": 2.0,
    "HW-DQ-01": 1.5,
    "WY-FW-01": 2.5,
    "WY-SS-01": 2.0,
    "WY-SS-02": 1.5,
    "MD-LL-01": 3.0,
    "MD-WY-01": 1.5,
    "AQ-XF-02": 3.0,
    "AQ-DD-01": 2.5,
    "AQ-DD-02": 2.5,
    "AQ-XF-01": 2.0,
    "AQ-JX-01": 1.5,
    "AQ-RQ-01": 0.3,
    "AQ-SC-02": 0.4,
    "AQ-FW-04": 0.4,
    "XF-CF-01": 5.0,
    "XF-CF-02": 2.0,
    "XF-JT-01": 0.4,
    "XF-JA-01": 0.3,
    "ZA-ZS-01": 2.5,
    "ZA-ZP-01": 0.4,
    "ZA-JS-01": 0.3,
    "ZA-DJ-01": 0.6,
    "ZA-DB-01": 0.4,
    "MS-BM-01": 2.0,
    "MS-YL-01": 1.5,
    "QY-ZC-01": 2.0,
}

# Reports per month across the year (the Spring Festival dip, the summer's rain and heat).
SEASON = (0.85, 0.7, 0.95, 1.0, 1.05, 1.12, 1.2, 1.18, 1.05, 0.92, 0.98, 0.95)

# Matters with a season of their own: (months, factor in those months).
TYPE_SEASONS: dict[str, tuple[frozenset[int], float]] = {
    "CG-PS-01": (frozenset({6, 7, 8, 9}), 4.0),  # plum rains and typhoons
    "AQ-ZH-01": (frozenset({6, 7, 8, 9}), 3.0),
    "CG-YL-01": (frozenset({6, 7, 8, 9}), 1.8),
    "HW-BM-01": (frozenset({5, 6, 7, 8, 9}), 2.5),
    "HW-DQ-01": (frozenset({6, 7, 8, 9}), 1.5),
    "ZA-ZS-01": (frozenset({6, 7, 8}), 1.5),
    "HW-ZS-01": (frozenset({4, 5, 6, 7, 8, 9, 10}), 1.3),
    "HW-DQ-02": (frozenset({10, 11, 12, 1, 2, 3}), 2.0),
    "AQ-DD-01": (frozenset({11, 12, 1, 2}), 1.6),
    "AQ-RQ-01": (frozenset({11, 12, 1, 2}), 1.6),
    "MD-LD-01": (frozenset({12, 1}), 3.0),  # wages owed before the Spring Festival
    "MS-YL-01": (frozenset({1, 7, 8, 12}), 1.5),
    "QY-YG-01": (frozenset({2, 3}), 2.0),
}

# How a channel's reports spread over the day (hours 0..23) and over working and rest days.
_OFFICE = (0, 0, 0, 0, 0, 0, 0, 1, 4, 9, 10, 7, 3, 5, 8, 9, 8, 4, 1, 0, 0, 0, 0, 0)
HOURS: dict[str, tuple[float, ...]] = {
    Source.GRID_PATROL: (0, 0, 0, 0, 0, 0, 0, 1, 6, 10, 10, 7, 3, 6, 9, 9, 7, 3, 1, 0, 0, 0, 0, 0),
    Source.RESIDENT: (1, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 4, 3, 3, 3, 3, 4, 6, 9, 10, 9, 6, 3),
    Source.HOTLINE: (1, 0, 0, 0, 0, 0, 1, 3, 8, 10, 10, 8, 5, 6, 9, 9, 8, 6, 4, 4, 3, 3, 2, 1),
    Source.POLICE: (4, 3, 2, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 3, 3, 3, 4, 5, 6, 8, 9, 9, 8, 6),
    Source.LEADER: _OFFICE,
    Source.ENTERPRISE: _OFFICE,
    Source.PETITION: _OFFICE,
}
# (working day, rest day) weights: petitions and enterprises come on working days, residents
# report more when they are at home.
DAY_KINDS: dict[str, tuple[float, float]] = {
    Source.GRID_PATROL: (1.0, 0.25),
    Source.RESIDENT: (0.9, 1.15),
    Source.HOTLINE: (1.0, 0.55),
    Source.POLICE: (1.0, 1.1),
    Source.LEADER: (1.0, 0.05),
    Source.ENTERPRISE: (1.0, 0.05),
    Source.PETITION: (1.0, 0.02),
}

# Small matters a grid worker settles on the spot (小事不出网格).
ON_SPOT_TYPES = frozenset(
    {
        "CG-SR-01",
        "CG-SR-02",
        "CG-TC-01",
        "CG-YL-01",
        "HW-LJ-01",
        "HW-LJ-02",
        "HW-DQ-02",
        "HW-BM-01",
        "WY-SS-01",
        "ZA-LD-01",
    }
)
TYPED_AT_INTAKE = frozenset({Source.GRID_PATROL, Source.PETITION})
ON_SPOT_SHARE = 0.30
REJECT_SHARE = 0.015  # of the reports that do not come from patrols
DUPLICATE_SHARE = 0.02
RETURN_SHARE = 0.05
TRANSFER_SHARE = 0.04
ESCALATE_SHARE = 0.12  # of the cases a community committee holds
EXTENSION_SHARE = 0.06
EXTENSION_APPROVED = 0.85
OVERDUE_SHARE = 0.09  # of the cases handled, so that about 8% of all end overdue
SUPERVISED_WHEN_OVERDUE = 0.6
LATE_CLAIM_SHARE = 0.08
UNREACHABLE_SHARE = 0.03
# First callbacks: 满意, 基本满意, 不满意 (which reopens the case).
VERDICTS = ((Satisfaction.SATISFIED, 0.85), (Satisfaction.BASICALLY, 0.128))
ACCOUNT_REPORT_SHARE = 0.03  # resident reports made by the demo residents' own accounts

# The street unit a matter goes up to when a community cannot settle it, and units a dispatcher
# mixes up with the right one (COMMITTEE stands for the committee of the case's community).
COMMITTEE = "社区居委会"
ESCALATE_TO = {
    "物业管理": "城建办",
    "环境卫生": "城建办",
    "矛盾纠纷": "矛调中心",
    "安全隐患": "应急管理办",
    "民生服务": "社会事务办",
    "城市管理": "综合行政执法中队",
}
MIXED_UP = {
    "城建办": ("综合行政执法中队", "应急管理办"),
    "综合行政执法中队": ("城建办", "市场监管所"),
    "派出所": ("平安办", "司法所"),
    "平安办": ("派出所",),
    "矛调中心": ("司法所", "信访办"),
    "司法所": ("矛调中心",),
    "信访办": ("矛调中心",),
    "应急管理办": ("消防救援站", "城建办"),
    "消防救援站": ("应急管理办",),
    "市场监管所": ("综合行政执法中队", "经济发展办"),
    "经济发展办": ("市场监管所",),
    "社会事务办": ("平安办",),
    COMMITTEE: ("城建办", "综合行政执法中队", "社会事务办"),
}

ROADS = ("人民路", "解放路", "建设路", "文化路", "体育路", "新华路", "中山路", "育才路", "河滨路")
INDUSTRIES = ("科技", "智能装备", "电子商务", "新材料", "机械制造", "文化传媒", "生物医药", "食品")

# What people say, per case type: {p} a building, {e} the estate, {r} a road, {n} a number.
PHRASES: dict[str, tuple[str, ...]] = {
    "CG-WJ-01": ("{p}顶楼有住户正在搭建阳光房,已经砌了一半", "{e}一楼住户在公共绿地上私自加建小屋"),
    "CG-SR-01": (
        "{r}{e}门口每天傍晚有流动摊贩占道摆摊,行人只能走机动车道",
        "{e}菜场外的水果摊把货架摆到了人行道上",
    ),
    "CG-SR-02": (
        "{p}楼道墙面贴满了开锁、通下水道的小广告",
        "{r}沿街电线杆和配电箱上被喷涂了办证电话",
    ),
    "CG-SZ-01": ("{r}靠近{e}的一段有{n}盏路灯不亮,晚上很黑", "{e}东门外的路灯已经坏了一个多星期"),
    "CG-SZ-02": (
        "{r}{e}路口有一个窨井盖缺失,已有行人差点踩空",
        "{r}人行道地砖大面积松动,雨天一踩就溅水",
    ),
    "CG-TC-01": ("{e}消防车道两侧长期停满机动车", "{r}地铁口共享单车乱堆,堵住了盲道"),
    "CG-YL-01": ("{p}楼前的香樟树枝叶伸到了三楼窗户,遮挡采光", "{e}中心绿地的草坪被人开垦成了菜地"),
    "CG-PS-01": ("{r}{e}路段一下雨就积水,水深没过脚踝", "{e}地下车库入口排水沟堵塞,暴雨时雨水倒灌"),
    "HW-LJ-01": (
        "{e}{n}号垃圾投放点的其他垃圾桶里混有大量厨余垃圾",
        "{p}有住户把垃圾袋直接放在楼道口,不按时段投放",
    ),
    "HW-LJ-02": ("{e}垃圾房的垃圾已经两天没有清运,气味很大", "{r}沿街垃圾桶满溢,垃圾散落一地"),
    "HW-LJ-03": ("{e}围墙外的空地上被倾倒了大量装修垃圾", "夜间有车辆在{r}路边偷倒建筑渣土"),
    "HW-HD-01": ("{e}旁边的河道水面漂浮着大量垃圾和水草", "{r}桥下河道有死鱼,水面发臭"),
    "HW-HD-02": ("{r}沿街一家餐饮店把污水直接排进雨水井", "{e}旁河道的排污口一直在排灰黑色污水"),
    "HW-DQ-01": (
        "{p}楼下烧烤店的油烟直接排向住宅,窗户都不敢开",
        "{r}{e}底商饭店没有安装油烟净化器",
    ),
    "HW-DQ-02": ("{e}旁的空地上有人焚烧垃圾和枯枝,浓烟很大", "{r}绿化带里有人在焚烧落叶"),
    "HW-ZS-01": ("{e}旁边的工地晚上十点以后还在施工,噪音很大", "{r}道路施工凌晨还在破碎路面"),
    "HW-GC-01": ("{r}公厕的洗手池坏了,里面卫生很差", "{e}附近的公厕夜间不开门"),
    "HW-BM-01": ("{p}楼下绿化带里老鼠很多,经常窜到单元门口", "{e}地下室积水,孳生大量蚊子"),
    "WY-FW-01": ("{e}物业保洁只打扫门口,楼道长期没人打扫", "{e}小区门禁坏了半个月,物业一直不修"),
    "WY-DT-01": ("{p}电梯停运两天了,楼上有行动不便的老人", "{p}电梯运行时有异响,上周还困过人"),
    "WY-DT-02": (
        "{p}居民想加装电梯,低层住户意见不一致,希望社区协调",
        "{p}加装电梯已经全部签字同意,想了解审批流程",
    ),
    "WY-GS-01": ("{p}自来水发黄,还有异味", "{e}高层住户水压不足,早晚用水高峰时没水"),
    "WY-ZX-01": ("{p}有住户中午和周末也在装修打电钻", "{p}装修住户在敲承重墙,楼上楼下都很担心"),
    "WY-SY-01": (
        "{e}电梯广告、停车费等公共收益从来没有公示",
        "{e}想动用维修资金修屋顶,不知道怎么申请",
    ),
    "WY-YW-01": ("{e}业委会任期已满一年多还没有换届", "{e}居民想成立业委会,希望社区指导"),
    "WY-SS-01": ("{e}儿童游乐设施的滑梯断裂,孩子容易受伤", "{p}单元门禁和楼道灯都坏了"),
    "WY-SS-02": ("{p}顶楼屋面漏水,下雨天家里天花板滴水", "{p}外墙渗水,卧室墙面大片发霉"),
    "MD-LL-01": ("{p}楼上楼下因为空调外机滴水发生争执", "{p}两户邻居因为楼道堆物吵了起来,互不相让"),
    "MD-HY-01": ("{p}一对夫妻经常吵架,昨晚动了手,邻居很担心", "{e}一户居民因离婚财产分割闹到社区"),
    "MD-HY-02": ("{e}一位老人反映子女不履行赡养义务", "{p}兄弟几人为父母留下的房产继承闹矛盾"),
    "MD-LD-01": (
        "{r}一处工地{n}0名工人反映被拖欠三个月工资",
        "{e}底商一家餐饮店停业,员工工资没有结清",
    ),
    "MD-LD-02": (
        "{e}附近一家工厂的工人工作时受伤,企业不愿认定工伤",
        "一名员工反映公司没有签劳动合同就辞退了他",
    ),
    "MD-WY-01": ("{e}业主因停车收费标准与物业公司发生纠纷", "{e}业主拒交物业费,物业停了其门禁卡"),
    "MD-XF-01": (
        "{r}一家健身房突然关门,会员预付费无法退还",
        "{e}附近一家培训机构停业,家长预付的学费退不了",
    ),
    "MD-ZL-01": ("{p}房东不退押金,租客和房东争执不下", "{p}租客拖欠房租两个月,拒不搬离"),
    "MD-ZQ-01": ("{e}拆迁户对安置房分配结果有异议", "征迁户反映过渡费没有按时发放"),
    "AQ-XF-01": ("{e}消防通道被车辆和杂物长期占用", "{p}的消防登高面被划成了停车位"),
    "AQ-XF-02": ("{p}楼道里堆满了纸板箱和旧家具", "{p}楼梯间堆放着杂物和易燃物"),
    "AQ-XF-03": ("{p}楼道灭火器过期,消火栓箱里没有水带", "{e}地下车库的烟感报警器损坏"),
    "AQ-XF-04": ("{r}沿街一家小作坊楼上住人、楼下生产", "{e}一户出租房里生产、仓储、住宿混在一起"),
    "AQ-JX-01": ("{r}一家小餐馆厨房电线乱拉,没有配灭火器", "{r}一家小旅馆的安全出口被锁住"),
    "AQ-RQ-01": ("{p}楼道里有很浓的煤气味", "{r}一家餐馆后厨闻到燃气味,已关闭总阀"),
    "AQ-RQ-02": (
        "{r}一家面馆把液化气钢瓶放在厨房里,没有报警器",
        "{r}一家小吃店使用没有检验标签的气瓶",
    ),
    "AQ-RQ-03": ("{p}楼外的燃气管道锈蚀严重", "{e}燃气立管老化,接口处有锈渣"),
    "AQ-DD-01": ("{p}有住户从窗户拉电线给电瓶车充电", "{p}楼道里有电动自行车在充电,很危险"),
    "AQ-DD-02": ("{p}一楼楼道停了好几辆电动自行车", "{p}电动车停在楼梯下面,堵住了出口"),
    "AQ-FW-01": ("{p}房屋墙体出现多条裂缝,住户担心安全", "{e}老旧房屋楼板下沉,阳台开裂"),
    "AQ-FW-02": ("{p}外墙瓷砖脱落,砸到了楼下的车辆", "{p}空调外机支架锈蚀,随时可能掉落"),
    "AQ-FW-03": ("{e}一幢自建房加层出租,结构有隐患", "{r}一幢经营性自建房没有做安全鉴定"),
    "AQ-FW-04": ("{p}有住户装修时打掉了承重墙", "{r}一家底商擅自拆除承重柱扩大门面"),
    "AQ-SC-01": ("{e}附近一家加工企业车间的消防通道被原料堵塞", "一家企业的叉车操作员没有持证上岗"),
    "AQ-SC-02": ("{r}一家店铺违规存放大量油漆和稀释剂", "一处仓库混放危险化学品,没有防护措施"),
    "AQ-SC-03": ("{e}旁边工地的脚手架没有挂安全网", "{r}施工工地塔吊作业没有设置警戒区"),
    "AQ-ZH-01": ("{e}后山边坡下雨后有落石", "{e}挡土墙出现裂缝,雨季有垮塌风险"),
    "XF-CF-01": (
        "反映{e}改造中停车位规划不合理,要求重新论证",
        "反映{e}附近新建变电站影响健康,要求说明情况",
    ),
    "XF-CF-02": ("再次反映{p}房屋漏水维修问题至今没有彻底解决", "第三次来访反映拆迁补偿未到位"),
    "XF-FC-01": ("对{e}加装电梯事项的处理意见不服,申请复查", "对信访答复意见不满意,申请复核"),
    "XF-JT-01": (
        "{e}{n}0余名业主集体来访,反映开发商延期交房",
        "{e}业主集体反映小区配套学校迟迟未建",
    ),
    "XF-JA-01": (
        "{e}一户居民的历史遗留房屋产权问题多年未解决",
        "一起多年前的征地补偿信访积案需要再次化解",
    ),
    "QY-ZC-01": ("企业咨询小微企业房租补贴政策的申请条件", "企业想了解研发费用加计扣除政策"),
    "QY-ZC-02": (
        "企业申请高新技术企业认定奖励,材料已提交一个多月",
        "企业询问规上工业企业奖励资金何时拨付",
    ),
    "QY-XM-01": ("企业申报技改项目,需要街道出具意见", "企业希望街道协助申报省级专精特新"),
    "QY-YG-01": ("企业急需招聘{n}0名一线工人,希望街道帮助对接", "企业反映节后返岗率低,缺工严重"),
    "QY-YG-02": ("企业引进的硕士人才咨询人才公寓申请", "企业高管子女入学需要协调"),
    "QY-KJ-01": ("企业扩产需要增加厂房面积,希望推荐空间", "园区企业反映周边停车位不足,员工停车难"),
    "QY-SP-01": ("企业变更经营范围,审批材料多次被退回", "餐饮企业办理食品经营许可证遇到困难"),
    "QY-RZ-01": ("企业资金周转困难,希望对接银行贷款", "科创企业咨询知识产权质押融资"),
    "QY-FL-01": (
        "企业与供应商发生合同纠纷,需要法律咨询",
        "企业被拖欠货款{n}0余万元,希望获得法律帮助",
    ),
    "MS-YL-01": (
        "{p}的独居老人已经两天没有出门,电话也打不通",
        "{p}一位独居老人行动不便,需要上门关爱",
    ),
    "MS-YL-02": ("{e}的老人希望在附近设置老年食堂助餐点", "老年食堂饭菜偏咸,老人希望调整口味"),
    "MS-YL-03": ("{p}失能老人的家属申请居家养老上门服务", "老人咨询居家养老服务补贴怎么申请"),
    "MS-JZ-01": ("{p}一户家庭因病致贫,想申请低保", "居民咨询临时救助的申请条件"),
    "MS-CJ-01": ("{p}一户残疾人家庭需要无障碍改造", "残疾人咨询辅助器具申领"),
    "MS-JY-01": ("{e}一位失业人员想找工作,希望推荐岗位", "就业困难人员咨询公益性岗位"),
    "MS-WB-01": ("{p}一名儿童父母长期外出,无人照看", "发现{e}附近有未成年人深夜在网吧逗留"),
    "MS-SB-01": ("居民咨询灵活就业人员社保缴费", "老人不会办理医保异地备案"),
    "MS-BM-01": ("居民需要开具居住证明,不清楚要带什么材料", "{e}的居民想在家门口办理老年卡"),
    "MS-YF-01": ("退役军人咨询优待证办理", "{p}一位老兵生活困难,希望得到帮扶"),
    "ZA-ZA-01": ("{e}围墙有缺口,经常有陌生人翻进小区", "{e}的监控探头坏了好几个,晚上不安全"),
    "ZA-QZ-01": ("{p}一套房子隔成{n}间出租,住了十几个人", "{p}出租房里摆着上下铺,人员进出频繁"),
    "ZA-LD-01": ("{p}新搬来一批租户,还没有登记", "{e}出租房屋的人员信息需要更新"),
    "ZA-ZP-01": (
        "{p}一位老人正在给陌生账户转账,疑似被骗",
        "居民接到冒充公检法的电话,要求转账到“安全账户”",
    ),
    "ZA-JZ-01": ("{e}一名社区矫正对象近期未按时报到", "刑满释放人员需要安置帮教"),
    "ZA-JS-01": ("{p}一名精神障碍患者近期情绪激动,家属担心出事", "{e}门口有人酒后持械滋事"),
    "ZA-ZS-01": ("{p}楼上住户每天深夜大声放音乐", "{e}广场舞音响声音太大,影响休息"),
    "ZA-DB-01": ("{r}一家棋牌室深夜聚集人员,疑似赌博", "{p}出租屋人员进出频繁,疑似有违法活动"),
    "ZA-DJ-01": ("{r}一家烧烤店门口有人打架", "{e}门口两伙人因停车发生冲突"),
}
FALLBACK_PHRASES = ("{e}居民反映{t}问题,希望尽快处理",)

# How each channel words a report.
FRAMES: dict[str, tuple[str, ...]] = {
    Source.GRID_PATROL: ("网格巡查发现:{x}。", "巡查时发现{x},已拍照取证。"),
    Source.RESIDENT: ("{x},希望尽快处理。", "{x},已经好几天了,麻烦管一管,谢谢!", "{x}。"),
    Source.HOTLINE: ("来电人反映:{x},希望相关部门尽快处理。", "市民来电称{x},诉求:尽快解决。"),
    Source.POLICE: ("110警情移交:{x}。民警已到场初步处置,请街道跟进化解。",),
    Source.LEADER: ("领导交办:{x},请相关单位限期办理并反馈结果。",),
    Source.ENTERPRISE: ("{c}反映:{x}。",),
    Source.PETITION: ("信访人来访反映:{x}。", "信访人来信反映:{x}。"),
}

RESULTS: dict[str, tuple[str, ...]] = {
    "城市管理": ("已组织执法队员现场处置,现场已恢复整洁", "已安排维修班组修复,经复查恢复正常"),
    "环境卫生": ("已联系保洁单位清理,并加密巡查频次", "已约谈责任人并责令整改,现场已整改到位"),
    "物业管理": ("已督促物业公司落实维修,问题已解决", "社区召集物业和业主代表协商,已达成处理意见"),
    "矛盾纠纷": ("经调解,双方达成一致并签订调解协议", "已组织双方面对面调解,矛盾已化解"),
    "安全隐患": ("已责令整改,隐患已消除,复查合格", "已现场督促清理整改,复查无隐患"),
    "信访": ("已书面答复信访人,并做好解释疏导工作", "已会同相关部门研究处理,信访人表示接受"),
    "企业诉求": ("已与企业对接,问题已协调解决", "已帮助企业完成申报,企业表示认可"),
    "民生服务": ("已上门走访并落实帮扶措施", "已指导居民办理完成"),
    "社会治安": ("派出所已出警处置,现场秩序恢复", "已联合开展排查整治,纳入重点巡查"),
}
EVIDENCE = ("整改前后照片已存档,现场复查确认", "现场复查记录已存档", "处理情况已电话告知反映人")
ON_SPOT_RESULTS = ("现场劝导,已清理完毕", "当场督促整改,已恢复正常", "联系相关人员现场处理完毕")
REJECT_REASONS = (
    "反映事项属于民事合同纠纷,已告知通过诉讼途径解决",
    "反映地点不在本街道辖区,已告知向属地反映",
    "来电内容为政策咨询,已当场解答,无需交办",
)
RETURN_REASONS = ("经核实不属于本单位职责,请重新交办", "该事项应由{u}负责,建议改由其办理")
ESCALATE_REASONS = ("涉及多个部门,社区无法单独处置,申请街道协调", "问题较复杂,需要街道层面统筹解决")
EXTENSION_REASONS = (
    "需协调多个部门现场会商",
    "需等待第三方检测结果",
    "涉及维修资金使用,需履行业主表决程序",
    "当事人外出,需待其返回后调解",
)
SUPERVISE_REQUIREMENTS = (
    "该件已超期,请于两个工作日内办结并报送结果",
    "请加快办理进度,及时向群众反馈",
)
UNREACHABLE_REASONS = (
    "反映人电话多次无人接听,无法回访",
    "反映人号码已停机,无法回访",
    "反映人表示不愿接受回访",
)


# The figures the command's summary prints: the dashboard's and the report's own.
SUMMARY_KPIS = (
    "intake",
    "on_spot_rate",
    "callback_rate",
    "satisfaction_rate",
    "first_satisfaction_rate",
    "strict_satisfaction_rate",
    "unsatisfied_reopened",
    "overdue",
    "supervised",
    "reopen_rate",
)


@dataclass
class CaseYearReport:
    """What the replayed year produced, for the command's summary: the cases made, by state,
    and the year's figures as every surface computes them."""

    year: int
    cases: int
    by_state: dict[str, int]
    figures: dict[str, Figure]
    seconds: float


@dataclass(frozen=True)
class RaisedCase:
    """A case raised outside the year's own reports (a problem found on an enterprise visit,
    made by `demo.registry`): when and where, its type, and the call that reports it."""

    moment: datetime
    area: Area
    type_code: str
    report: Callable[[], Case]


@dataclass
class _Plan:
    index: int
    moment: datetime
    source: str
    area: Area
    case_type: CaseType
    on_spot: bool = False
    reject: bool = False
    account: User | None = None  # a demo resident reporting from their own account
    original: "_Plan | None" = None  # the report this one repeats
    report: Callable[[], Case] | None = None  # how a raised case is reported


@dataclass
class _Place:
    """A microgrid with what a report says about it."""

    area: Area
    estate: str
    building: int
    community: Area
    grid: Area


@dataclass
class _Staff:
    dispatchers: list[User]
    leaders: list[User]
    grid_workers: dict[int, User]  # by grid id
    handlers: dict[int, list[User]]  # by unit id
    residents: list[tuple[User, Area]]
    units: dict[str, Unit]  # street units by their short name
    unit_keys: dict[int, str] = field(default_factory=dict)  # unit id -> short name


_MICROGRID_NAME = re.compile(r"^(?P<estate>.*?)(?P<number>\d+)号微网格$")


def _photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (96, 150, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


class _Year:
    """The replay of one street's year."""

    def __init__(
        self, demo: DemoStreet, year: int, volume: int, raised: Sequence[RaisedCase] = ()
    ) -> None:
        self.street = demo.street
        self.year = year
        self.volume = volume
        self.raised = raised
        # One seed for the whole year, drawn from the street's own sequence; every case then draws
        # from its own generator, so its story does not depend on how the others interleave.
        self.seed = demo.rng.getrandbits(64)
        self.tz = timezone.get_default_timezone()
        self.start = datetime(year, 1, 1, tzinfo=self.tz)
        self.horizon = min(datetime(year + 1, 1, 1, tzinfo=self.tz), clock.now())
        self.calendar = WorkCalendar()
        self.photo = _photo_bytes()
        self.places = self._places()
        self.staff = self._staff()
        # Source-governance tasks (源头治理) are not reported: leaders make them of hotspots.
        self.types = list(
            CaseType.objects.filter(street=self.street, is_active=True)
            .exclude(workflow="source")
            .select_related("category__parent", "default_unit")
            .order_by("code")
        )
        if not self.types:
            raise DomainError("该街道还没有事项清单,无法生成事件")
        self.by_area = {place.area.pk: place for place in self.places}
        self.originals: set[int] = set()  # plans that a later report repeats
        self.cases: dict[int, Case] = {}  # the originals as reported, by plan index
        self.units_for: dict[tuple[int, int], Unit] = {}
        self.enterprises: dict[int, list[Enterprise]] = defaultdict(list)
        for enterprise in Enterprise.objects.filter(
            street=self.street, deleted_at__isnull=True
        ).select_related("area"):
            place = self.by_area.get(enterprise.area_id)
            self.enterprises[place.community.pk if place else 0].append(enterprise)
        self._type_weights: dict[tuple[str, int], list[float]] = {}

    # Set-up ----------------------------------------------------------------------------------

    def _places(self) -> list[_Place]:
        areas = {
            a.pk: a
            for a in Area.objects.filter(
                street=self.street,
                level__in=[Level.COMMUNITY, Level.GRID, Level.DEDICATED_GRID],
            )
        }
        places = []
        microgrids = Area.objects.filter(street=self.street, level=Level.MICROGRID)
        # Intake reads each area's street; reading it here saves a query per case.
        for area in microgrids.select_related("street").order_by("path"):
            grid = areas[area.parent_id or 0]
            community = grid
            while community.level != Level.COMMUNITY and community.parent_id in areas:
                community = areas[community.parent_id or 0]
            match = _MICROGRID_NAME.match(area.name)
            estate = match["estate"] if match else area.name.removesuffix("微网格")
            building = int(match["number"]) if match else 1
            places.append(_Place(area, estate, building, community, grid))
        if not places:
            raise DomainError("该街道还没有微网格,无法生成事件")
        return places

    def _staff(self) -> _Staff:
        grants = list(
            RoleGrant.objects.filter(revoked_at__isnull=True, user__is_active=True)
            .filter(area__path__startswith=self.street.path)
            .select_related("user", "area__street")
            .order_by("user__username")
        )
        units = {
            u.name: u
            for u in Unit.objects.filter(street=self.street, is_active=True).exclude(
                kind__in=[UnitKind.COMMUNITY_COMMITTEE, UnitKind.PROPERTY]
            )
        }
        short = self.street.name.removesuffix("街道")
        staff = _Staff(
            dispatchers=[
                g.user for g in grants if g.role == Role.DISPATCHER and g.area_id == self.street.pk
            ],
            leaders=[
                g.user for g in grants if g.role == Role.LEADER and g.area_id == self.street.pk
            ],
            grid_workers={},
            handlers=defaultdict(list),
            residents=[(g.user, g.area) for g in grants if g.role == Role.RESIDENT],
            units={name.removeprefix(short): unit for name, unit in units.items()},
        )
        staff.unit_keys = {unit.pk: key for key, unit in staff.units.items()}
        for grant in grants:
            if grant.role == Role.GRID_WORKER:
                staff.grid_workers.setdefault(grant.area_id, grant.user)
            elif (
                grant.role == Role.HANDLER
                and grant.user.unit_id is not None
                and grant.user not in staff.handlers[grant.user.unit_id]
            ):
                staff.handlers[grant.user.unit_id].append(grant.user)
        if not staff.dispatchers or not staff.leaders:
            raise DomainError("该街道缺少指挥中心坐席或街道领导,无法生成事件")
        return staff

    # Planning --------------------------------------------------------------------------------

    def plans(self) -> list[_Plan]:
        """Who reports what, where and when, for the whole year, in the order of reporting;
        then the raised cases."""
        rng = random.Random(f"{self.seed}:plan")  # noqa: S311 - demo data, not secrets
        days = [
            day
            for day in (self.start.date() + timedelta(days=n) for n in range(366))
            if day.year == self.year and day <= self.horizon.date()
        ]
        workdays = [self.calendar.is_workday(day) for day in days]
        day_weights = {
            source: list(
                accumulate(
                    SEASON[day.month - 1] * (work if workday else rest)
                    for day, workday in zip(days, workdays, strict=True)
                )
            )
            for source, (work, rest) in DAY_KINDS.items()
        }
        place_weights = list(accumulate(rng.uniform(0.3, 2.0) for _ in self.places))
        parks = [p for p in self.places if p.grid.level == Level.DEDICATED_GRID]
        on_spot_types = [t for t in self.types if t.code in ON_SPOT_TYPES and t.workflow == GENERAL]

        base_count = round(self.volume * (1 - DUPLICATE_SHARE))
        sources = rng.choices(
            list(SOURCE_SHARES), weights=list(SOURCE_SHARES.values()), k=base_count
        )
        plans: list[_Plan] = []
        for source in sources:
            day = rng.choices(days, cum_weights=day_weights[source])[0]
            hour = rng.choices(range(24), weights=HOURS[source])[0]
            moment = datetime(
                day.year,
                day.month,
                day.day,
                hour,
                rng.randrange(60),
                rng.randrange(60),
                tzinfo=self.tz,
            )
            if moment >= self.horizon:
                continue
            if source == Source.ENTERPRISE and parks and rng.random() < 0.6:
                place = rng.choice(parks)
            else:
                place = rng.choices(self.places, cum_weights=place_weights)[0]
            plan = _Plan(0, moment, source, place.area, self.types[0])
            plan.on_spot = (
                source == Source.GRID_PATROL
                and bool(on_spot_types)
                and rng.random() < ON_SPOT_SHARE
            )
            if plan.on_spot:
                plan.case_type = self._pick_type(rng, "on_spot", on_spot_types, day.month)
            else:
                plan.case_type = self._pick_type(rng, source, self.types, day.month)
            plan.reject = source != Source.GRID_PATROL and rng.random() < REJECT_SHARE
            if (
                source == Source.RESIDENT
                and self.staff.residents
                and rng.random() < ACCOUNT_REPORT_SHARE
            ):
                plan.account, plan.area = rng.choice(self.staff.residents)
            plans.append(plan)

        # Second reports of a matter already reported, by another resident a few hours later.
        candidates = [
            p for p in plans if not p.on_spot and not p.reject and p.source != Source.PETITION
        ]
        wanted = max(0, min(len(candidates), self.volume - len(plans)))
        for original in rng.sample(candidates, wanted):
            moment = original.moment + timedelta(hours=rng.uniform(1, 30))
            if moment < self.horizon:
                source = rng.choice((Source.RESIDENT, Source.HOTLINE))
                plans.append(
                    _Plan(0, moment, source, original.area, original.case_type, original=original)
                )
        plans.sort(key=lambda p: (p.moment, p.source, p.area.code, p.case_type.code))
        for index, plan in enumerate(plans):
            plan.index = index
        self.originals = {p.original.index for p in plans if p.original is not None}
        # Raised cases are numbered after the year's own reports, so that those keep their
        # stories whether or not there are raised cases; the replay orders all by moment.
        types = {t.code: t for t in self.types}
        for raised in self.raised:
            if raised.moment < self.horizon and raised.type_code in types:
                plans.append(
                    _Plan(
                        len(plans),
                        raised.moment,
                        Source.ENTERPRISE,
                        raised.area,
                        types[raised.type_code],
                        report=raised.report,
                    )
                )
        return plans

    @staticmethod
    def _category(case_type: CaseType) -> str:
        category = case_type.category
        return category.parent.name if category.parent is not None else category.name

    def _pick_type(
        self, rng: random.Random, mix: str, types: list[CaseType], month: int
    ) -> CaseType:
        """A type for a report of channel `mix`: by its category's share, then its own weight,
        then its season."""
        key = (mix, month)
        if key not in self._type_weights:
            shares = CATEGORY_MIX.get(mix, {})
            totals: dict[str, float] = defaultdict(float)
            for case_type in types:
                totals[self._category(case_type)] += TYPE_WEIGHTS.get(case_type.code, 1.0)
            weights = []
            for case_type in types:
                category = self._category(case_type)
                share = shares.get(category, 0.0) if shares else 1.0
                months, factor = TYPE_SEASONS.get(case_type.code, (frozenset(), 1.0))
                weights.append(
                    share
                    * TYPE_WEIGHTS.get(case_type.code, 1.0)
                    / totals[category]
                    * (factor if month in months else 1.0)
                )
            if not any(weights):  # a catalogue without the channel's categories
                weights = [1.0] * len(types)
            self._type_weights[key] = list(accumulate(weights))
        return rng.choices(types, cum_weights=self._type_weights[key])[0]

    # Moments ---------------------------------------------------------------------------------

    def _on_duty(self, rng: random.Random, at: datetime, low: float, high: float) -> datetime:
        """When the command centre gets to it: minutes later, its shifts running 8:00 to 21:00."""
        moment = at + timedelta(minutes=rng.uniform(low, high))
        local = timezone.localtime(moment, self.tz)
        if local.hour < 8 or local.hour >= 21:
            day = local.date() + timedelta(days=1 if local.hour >= 21 else 0)
            moment = datetime(day.year, day.month, day.day, 8, tzinfo=self.tz) + timedelta(
                minutes=rng.uniform(0, 50)
            )
        return moment

    def _office(self, rng: random.Random, at: datetime, low: float, high: float) -> datetime:
        """Some working hours later, as offices and stations work."""
        return self.calendar.add_work_hours(at, rng.uniform(low, high))

    @staticmethod
    def _urgent(case: Case) -> bool:
        return case.case_type is not None and case.case_type.handle_limit_hours is not None

    # The story of one case -------------------------------------------------------------------

    def life(self, plan: _Plan) -> Generator[datetime, None, None]:
        """Yield the moment of each next step; the replay resumes the story at that moment."""
        at = plan.moment
        yield at
        rng = random.Random(f"{self.seed}:{plan.index}")  # noqa: S311 - demo data, not secrets
        case = self._report(plan, rng)
        if plan.index in self.originals:
            self.cases[plan.index] = case
        category = self._category(plan.case_type)
        if plan.on_spot:
            worker = self.staff.grid_workers[self.by_area[plan.area.pk].grid.pk]
            at += timedelta(minutes=rng.uniform(5, 40))
            yield at
            case = services.case_resolve_on_spot(
                case=case,
                actor=worker,
                case_type=plan.case_type,
                result=f"网格员{rng.choice(ON_SPOT_RESULTS)}",
                photos=[SimpleUploadedFile("现场.png", self.photo, content_type="image/png")],
            )
            yield from self._callback(case, rng, at, category)
            return
        dispatcher = rng.choice(self.staff.dispatchers)
        at = self._on_duty(rng, at, 5, 120)
        yield at
        if plan.reject and case.flow == GENERAL:
            services.case_reject(case=case, actor=dispatcher, reason=rng.choice(REJECT_REASONS))
            return
        if plan.original is not None:
            kept = self.cases.get(plan.original.index)
            if kept is not None:
                kept.refresh_from_db(fields=["state", "merged_into"])
                if kept.state in states_of("open", "resolved") and kept.merged_into_id is None:
                    services.case_merge(case=case, actor=dispatcher, kept=kept)
                    return
        priority = Priority.HIGH if plan.source == Source.LEADER else ""
        flow = flow_for_type(plan.case_type)
        if case.flow == GENERAL:
            # Typed now; a type of a specialised flow hands the case over to that flow.
            case = services.case_accept(
                case=case, actor=dispatcher, case_type=plan.case_type, priority=priority
            )
        if flow.key != GENERAL:
            yield from STORIES[flow.key](self, case, plan, rng, at, dispatcher)
            return
        unit = self._unit_for(plan)
        first = unit
        mix_up = rng.random()
        wrong = self._mixed_up(rng, unit)
        if wrong is not None and mix_up < RETURN_SHARE + TRANSFER_SHARE:
            first = wrong
        at = self._on_duty(rng, at, 2, 30)
        yield at
        case = services.case_dispatch(case=case, actor=dispatcher, unit=first)
        if first != unit and mix_up < RETURN_SHARE:
            handler = rng.choice(self._handlers(first))
            if rng.random() < 0.5:
                at = self._office(rng, at, 0.1, _claim_hours(case))
                yield at
                case = services.case_claim(case=case, actor=handler)
            at = self._office(rng, at, 0.2, 3)
            yield at
            reason = rng.choice(RETURN_REASONS).format(u=unit.name)
            case = services.case_return(case=case, actor=handler, reason=reason)
            at = self._on_duty(rng, at, 10, 120)
            yield at
            case = services.case_dispatch(case=case, actor=dispatcher, unit=unit)
        elif first != unit:
            at = self._on_duty(rng, at, 30, 240)
            yield at
            case = services.case_transfer(
                case=case,
                actor=dispatcher,
                unit=unit,
                reason=f"承办单位反映非其职责,改由{unit.name}办理",
            )
        case, at = yield from self._work(case, rng, at, unit, category, first_time=True)
        yield from self._callback(case, rng, at, category)

    def _work(
        self,
        case: Case,
        rng: random.Random,
        at: datetime,
        unit: Unit,
        category: str,
        *,
        first_time: bool,
    ) -> Generator[datetime, None, tuple[Case, datetime]]:
        """A unit claims the case and handles it to its resolution."""
        handler = rng.choice(self._handlers(unit))
        urgent = self._urgent(case)
        if urgent:
            at += timedelta(minutes=rng.uniform(3, 30))
        elif rng.random() < LATE_CLAIM_SHARE:
            at = self._office(rng, at, _claim_hours(case) + 0.5, _claim_hours(case) + 6)
        else:
            at = self._office(rng, at, 0.05, _claim_hours(case) * 0.9)
        yield at
        case = services.case_claim(case=case, actor=handler)

        escalate = (
            first_time
            and unit.kind == UnitKind.COMMUNITY_COMMITTEE
            and category in ESCALATE_TO
            and rng.random() < ESCALATE_SHARE
        )
        if escalate:
            at = self._office(rng, at, 1, 16)
            yield at
            case = services.case_escalate(
                case=case, actor=handler, reason=rng.choice(ESCALATE_REASONS)
            )
            upper = self.staff.units[ESCALATE_TO[category]]
            at = self._on_duty(rng, at, 20, 180)
            yield at
            case = services.case_dispatch(
                case=case, actor=rng.choice(self.staff.dispatchers), unit=upper
            )
            return (yield from self._work(case, rng, at, upper, category, first_time=False))

        if first_time and not urgent and rng.random() < EXTENSION_SHARE:
            case, at = yield from self._extension(case, rng, at, handler)

        due = _deadline(case)
        if first_time and rng.random() < OVERDUE_SHARE:
            if urgent:
                resolve_at = max(due, at) + timedelta(hours=rng.uniform(0.5, 6))
            else:
                resolve_at = self._office(rng, max(due, at), 2, 40)
            if rng.random() < SUPERVISED_WHEN_OVERDUE:
                supervise_at = self._office(rng, max(due, at), 0.5, 6)
                if supervise_at < resolve_at:
                    yield supervise_at
                    case = services.case_supervise(
                        case=case,
                        actor=rng.choice(self.staff.leaders),
                        requirement=rng.choice(SUPERVISE_REQUIREMENTS),
                    )
        else:
            resolve_at = self._before(rng, at, due, urgent)
        at = max(resolve_at, at + timedelta(minutes=1))
        yield at
        case = services.case_resolve(
            case=case,
            actor=handler,
            result=rng.choice(RESULTS.get(category, RESULTS["民生服务"])),
            evidence=rng.choice(EVIDENCE),
        )
        return case, at

    def _before(self, rng: random.Random, at: datetime, due: datetime, urgent: bool) -> datetime:
        """A moment of work between now and the deadline, usually well before it."""
        if due <= at:
            return at + timedelta(minutes=rng.uniform(10, 90))
        share = rng.betavariate(1.6, 3.2)
        moment = at + (due - at) * share
        if not urgent:
            moment = self.calendar.add_work_hours(moment, 0)
        if moment >= due:
            moment = at + (due - at) * share
        return moment

    def _extension(
        self, case: Case, rng: random.Random, at: datetime, handler: User
    ) -> Generator[datetime, None, tuple[Case, datetime]]:
        due = _deadline(case)
        ask_at = self._before(rng, at, due, urgent=False)
        if ask_at <= at:
            return case, at
        yield ask_at
        new_due = workday_end(
            self.calendar.add_workdays(timezone.localdate(due, self.tz), rng.randint(3, 10))
        )
        case = services.case_request_extension(
            case=case, actor=handler, due_at=new_due, reason=rng.choice(EXTENSION_REASONS)
        )
        at = self._office(rng, ask_at, 0.5, 6)
        yield at
        approver = rng.choice(self.staff.dispatchers + self.staff.leaders)
        if rng.random() < EXTENSION_APPROVED:
            case = services.case_approve_extension(
                case=case, actor=approver, note="同意延期,请在新时限内办结"
            )
        else:
            case = services.case_deny_extension(
                case=case, actor=approver, note="延期理由不充分,请按原时限办结"
            )
        return case, at

    def _callback(
        self, case: Case, rng: random.Random, at: datetime, category: str
    ) -> Generator[datetime, None, None]:
        """The command centre calls the reporter back; 不满意 sends the case back to its unit."""
        dispatcher = rng.choice(self.staff.dispatchers)
        at = self._office(rng, at, 1, 16)
        yield at
        if rng.random() < UNREACHABLE_SHARE:
            services.case_close_without_callback(
                case=case, actor=dispatcher, reason=rng.choice(UNREACHABLE_REASONS)
            )
            return
        draw = rng.random()
        verdict = Satisfaction.UNSATISFIED
        for satisfaction, share in VERDICTS:
            if draw < share:
                verdict = satisfaction
                break
            draw -= share
        if verdict == Satisfaction.UNSATISFIED and case.unit_id is None:
            # Reopening needs a unit to send the case back to; a grid worker's own on-the-spot
            # result has none, so here the unhappy few are counted among the 基本满意.
            verdict = Satisfaction.BASICALLY
        note = "对处理结果不认可,问题仍然存在" if verdict == Satisfaction.UNSATISFIED else ""
        case = services.case_callback(case=case, actor=dispatcher, satisfaction=verdict, note=note)
        if verdict != Satisfaction.UNSATISFIED:
            return
        # A reopened case goes back to the unit that had it (reopen refuses a case without one).
        unit = case.unit
        if unit is None:
            raise DomainError(f"事件{case.number}重办后没有承办单位")
        case, at = yield from self._work(case, rng, at, unit, category, first_time=False)
        at = self._office(rng, at, 1, 16)
        yield at
        second = Satisfaction.BASICALLY if rng.random() < 0.7 else Satisfaction.SATISFIED
        services.case_callback(case=case, actor=dispatcher, satisfaction=second)

    # Steps' details --------------------------------------------------------------------------

    def _report(self, plan: _Plan, rng: random.Random) -> Case:
        if plan.report is not None:
            return plan.report()
        place = self.by_area[plan.area.pk]
        values = {
            "p": f"{place.estate}{place.building}幢",
            "e": place.estate,
            "r": rng.choice(ROADS),
            "n": rng.randint(2, 6),
            "t": plan.case_type.name,
        }
        phrase = rng.choice(PHRASES.get(plan.case_type.code, FALLBACK_PHRASES)).format(**values)
        enterprise = (
            f"杭州{''.join(rng.sample(PLACE_SYLLABLES, 2))}{rng.choice(INDUSTRIES)}有限公司"
        )
        description = rng.choice(FRAMES[plan.source]).format(x=phrase, c=enterprise)
        # A petition or an enterprise's appeal is known by what it asks, a local matter by where.
        if plan.source in (Source.PETITION, Source.ENTERPRISE):
            title = phrase[:40]
        else:
            title = f"{place.estate}{plan.case_type.name}"
        actor: User | None = None
        name, phone = self._person(rng, plan.source), self._phone(rng)
        if plan.source == Source.GRID_PATROL:
            actor, name, phone = self.staff.grid_workers[place.grid.pk], "", ""
        elif plan.source == Source.LEADER:
            actor, name, phone = rng.choice(self.staff.leaders), "", ""
        elif plan.account is not None:
            actor, name = plan.account, ""
        elif plan.source != Source.RESIDENT:
            actor = rng.choice(self.staff.dispatchers)
        if plan.source == Source.ENTERPRISE:
            name = f"{enterprise} {name}"
        case, _ = services.case_report(
            area=plan.area,
            source=plan.source,
            description=description,
            actor=actor,
            title=title,
            reporter_name=name[:50],
            reporter_phone=phone,
            address=f"{place.community.name}{place.estate}{place.building}幢",
            # Patrols report what they saw, and the desk registers a petition, with its type.
            case_type=plan.case_type if plan.source in TYPED_AT_INTAKE else None,
        )
        return case

    @staticmethod
    def _person(rng: random.Random, source: str) -> str:
        surname = rng.choice(SURNAMES)
        if source == Source.HOTLINE and rng.random() < 0.4:
            return surname + rng.choice(("先生", "女士"))
        return surname + "".join(rng.choices(GIVEN_CHARS, k=rng.choice((1, 2, 2))))

    @staticmethod
    def _phone(rng: random.Random) -> str:
        return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"

    def _unit_for(self, plan: _Plan) -> Unit:
        place = self.by_area[plan.area.pk]
        key = (plan.case_type.pk, place.community.pk)
        if key not in self.units_for:
            unit = services.unit_for(case_type=plan.case_type, area=plan.area)
            if unit is None:
                raise DomainError(f"“{plan.case_type.name}”在{place.community.name}没有承办单位")
            self.units_for[key] = unit
        return self.units_for[key]

    def _mixed_up(self, rng: random.Random, unit: Unit) -> Unit | None:
        """A unit a dispatcher might send the case to by mistake, if any has handlers."""
        if unit.kind == UnitKind.COMMUNITY_COMMITTEE:
            key = COMMITTEE
        else:
            key = self.staff.unit_keys.get(unit.pk, "")
        options = [
            self.staff.units[name]
            for name in MIXED_UP.get(key, ())
            if name in self.staff.units and self.staff.handlers.get(self.staff.units[name].pk)
        ]
        return rng.choice(options) if options else None

    def enterprise_near(self, case: Case, rng: random.Random) -> Enterprise | None:
        """An enterprise of the case's community (else of the street) that an appeal came from."""
        place = self.by_area.get(case.area_id)
        pool = self.enterprises.get(place.community.pk if place else 0) or [
            e for group in self.enterprises.values() for e in group
        ]
        return rng.choice(pool) if pool else None

    def _handlers(self, unit: Unit) -> list[User]:
        handlers = self.staff.handlers.get(unit.pk)
        if not handlers:
            raise DomainError(f"单位“{unit.name}”没有办理人,无法签收事件")
        return handlers

    # The replay ------------------------------------------------------------------------------

    def run(self, progress: Callable[[str], None] | None = None) -> None:
        """Run every case's story, all of them interleaved in the order of their moments."""
        queue: list[tuple[datetime, int, Iterator[datetime]]] = []
        for plan in self.plans():
            story: Iterator[datetime] = self.life(plan)
            heapq.heappush(queue, (next(story), plan.index, story))
        month = 0
        while queue:
            moment, index, story = heapq.heappop(queue)
            if progress is not None and moment.month != month and moment.year == self.year:
                month = moment.month
                progress(f"正在生成 {self.year}年{month}月的事件…")
            with clock.acting_at(moment):
                following = next(story, None)
            if following is not None and following < self.horizon:
                heapq.heappush(queue, (max(following, moment), index, story))


def _deadline(case: Case) -> datetime:
    """The handling deadline of a case a unit holds (dispatch always sets it)."""
    if case.handle_due_at is None:
        raise DomainError(f"事件{case.number}没有办理时限")
    return case.handle_due_at


def _claim_hours(case: Case) -> float:
    """The claim limit of the case's type, in working hours."""
    return float(case.case_type.claim_limit_hours if case.case_type else 2)


def demo_cases(
    *,
    demo: DemoStreet,
    year: int,
    scale: str,
    progress: Callable[[str], None] | None = None,
    raised: Sequence[RaisedCase] = (),
) -> CaseYearReport:
    """Replay a year of the demo street's cases through the case services, with the `raised`
    cases (problems found on the registry's visits) reported at their moments among them."""
    if scale not in VOLUMES:
        raise DomainError(f"规模只能是 {'、'.join(VOLUMES)}")
    start = datetime(year, 1, 1, tzinfo=timezone.get_default_timezone())
    if start >= timezone.now():
        raise DomainError(f"{year}年尚未开始,无法生成该年的事件")
    if Case.objects.filter(street=demo.street).exists():
        raise DomainError(f"街道“{demo.street.name}”已有事件,未重复生成")
    started = time.monotonic()
    # The figures' roll-up is rebuilt once at the end instead of after each replayed step.
    with rollup_deferred(street=demo.street):
        _Year(demo, year, VOLUMES[scale], raised).run(progress)
        demo_hotspots(demo=demo, year=year)
    return case_year_report(street=demo.street, year=year, seconds=time.monotonic() - started)


def case_year_report(*, street: Area, year: int, seconds: float = 0.0) -> CaseYearReport:
    """The street's cases reported in `year` by state, and its figures for the year."""
    tz = timezone.get_default_timezone()
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    cases = Case.objects.filter(street=street, reported_at__gte=start, reported_at__lt=end)
    by_state = dict(cases.values_list("state").annotate(n=Count("id")).order_by())
    figures = figures_compute(
        viewer=operator(), kpis=SUMMARY_KPIS, scope=Scope(area=street), period=Period.year(year)
    )
    return CaseYearReport(
        year=year,
        cases=sum(by_state.values()),
        by_state={state.value: by_state.get(state.value, 0) for state in State},
        figures=figures,
        seconds=seconds,
    )


def previous_year(today: date | None = None) -> int:
    """The default year of the demo: the last complete calendar year."""
    return (today or timezone.localdate()).year - 1
