"""Facts the demo builds on: the seed reports' streets, their districts and their places."""

from dataclasses import dataclass, field

CITY = ("3301", "杭州市")


@dataclass(frozen=True)
class StreetSpec:
    code: str
    name: str
    district_code: str
    district_name: str
    slug: str
    communities: tuple[str, ...] = field(default=())
    parks: tuple[str, ...] = field(default=())


# Statistical division codes (2022) of the five streets whose reports are in the seeds.
KNOWN_STREETS: dict[str, StreetSpec] = {
    spec.code: spec
    for spec in [
        StreetSpec(
            "330109001",
            "城厢街道",
            "330109",
            "萧山区",
            "chengxiang",
            # Communities the 城厢 report names, then others of the old town.
            communities=(
                "湘湖",
                "湖头陈",
                "太平弄",
                "美之园",
                "燕子河",
                "百尺溇",
                "回澜",
                "东阳桥",
                "南市",
                "西河路",
                "潇湘",
                "江寺",
                "育才",
                "杜湖",
                "休博园",
                "东白马湖",
                "南门",
                "城河",
                "高桥",
                "俞家潭",
                "萧然",
                "里士湖",
                "东门",
                "西门",
                "梦笔",
                "惠济",
                "荣星",
                "崇化",
                "潘水",
                "金城",
                "下湘湖",
                "东湘",
                "通惠",
                "众安",
                "西山",
                "劲松",
            ),
            parks=("湖头陈汇智科创园", "紫橙国际", "西湘里文创园", "萧西实验学校"),
        ),
        StreetSpec("330102008", "南星街道", "330102", "上城区", "nanxing"),
        StreetSpec("330106013", "文新街道", "330106", "西湖区", "wenxin"),
        StreetSpec("330108002", "长河街道", "330108", "滨江区", "changhe"),
        StreetSpec("330113002", "南苑街道", "330113", "临平区", "nanyuan"),
    ]
}

PROPERTY_COMPANIES = ("绿城物业", "南都物业", "开元物业", "滨江物业", "新湖物业", "金昌物业")

# Syllables for the names of communities that the reports do not name.
PLACE_SYLLABLES = (
    "东",
    "西",
    "南",
    "北",
    "湖",
    "河",
    "桥",
    "塘",
    "山",
    "湾",
    "港",
    "园",
    "新",
    "丰",
    "安",
    "兴",
    "和",
    "平",
    "清",
    "康",
    "宁",
    "华",
    "景",
    "明",
    "春",
    "秀",
    "瑞",
    "祥",
)
ESTATE_SUFFIXES = ("苑", "府", "花园", "公寓", "新村", "家园", "小区", "里")

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "罗",
    "高",
    "沈",
    "俞",
    "金",
    "钱",
    "汪",
    "楼",
    "蒋",
    "韩",
)
GIVEN_CHARS = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂",
    "华",
    "建",
    "国",
    "红",
    "燕",
    "萍",
    "晨",
    "慧",
    "佳",
    "婷",
    "浩",
    "宇",
    "欣",
    "怡",
    "斌",
    "峰",
    "琳",
    "雪",
    "鑫",
    "凯",
)
