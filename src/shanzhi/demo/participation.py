"""The demo street's 民生实事 and 志愿服务, at the seeds' scale, through the real services.

- The street's round of the demo year, voted by the residents' council (议事会成员 and 人大代表,
  phones and double-entered paper ballots) and published: 6 projects in 15 sub-items, 7 of them
  done ahead of time, the rest under way; the finished projects evaluated by the council.
- One community round for the year after at each earlier stage: 征集, 初定, 审议 and 票决 (open,
  with ballots coming in), so every screen has something to show.
- A year of volunteer service: 42 young volunteers serving elderly residents 195 times for
  nearly 400 hours, other activities beside; 90 partner units (共建单位) whose rewards were
  exchanged for points worth 2.5万余元.

Each step runs inside `clock.acting_at` at the moment it happened, so the figures of the year
count it where it belongs. The same seed gives the same result.
"""

import random
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from shanzhi import clock
from shanzhi.accounts.models import Role, RoleGrant, User
from shanzhi.areas.models import Area, Level
from shanzhi.participation import selectors, services
from shanzhi.participation.models import (
    Activity,
    ActivityKind,
    Exchange,
    Project,
    ProjectStatus,
    Reward,
    Round,
    SignUp,
    Stage,
    Voter,
    VoterKind,
)
from shanzhi.registry.models import Person

from .generator import DemoStreet

STREET_PROJECTS = (
    ("全力优化营商环境", ("企业服务驿站建设", "商圈停车改造")),
    ("打造现代社区样板", ("未来社区场景建设", "邻里中心改造", "社区食堂扩容")),
    ("扎实推进平安建设", ("老旧小区智能安防", "电动自行车集中充电")),
    ("不断改善人居环境", ("背街小巷整治", "口袋公园建设", "垃圾分类亭升级")),
    ("消除城市安全隐患", ("燃气管道更新", "高空坠物防护")),
    ("保障居民身心健康", ("社区卫生服务站提升", "老年助餐点", "全民健身点位")),
)
DROPPED = (
    ("新建地下停车库", "投资超出街道年度民生实事资金规模,建议纳入区级项目"),
    ("河道游船观光", "不属于民生实事范围,已转相关部门研究"),
)
YOUTH_VOLUNTEERS, YOUTH_SERVICES, YOUTH_VISITS = 42, 195, 65
YOUTH_HOURS = Decimal("2.0")  # a visit: 195 services, 390 hours (近400小时)
OTHER_VOLUNTEERS = 120
PARTNERS = 90
EXCHANGE_TARGET = Decimal(25_300)  # 兑换价值2.5万余元
# (name, points, value): a point is worth about 2.5元 of the partners' discounts.
REWARDS = (
    ("洗衣液", 10, Decimal("25.00")),
    ("大米5公斤", 16, Decimal("39.90")),
    ("理发券", 8, Decimal("20.00")),
    ("电影票", 16, Decimal("40.00")),
    ("图书券", 20, Decimal("50.00")),
    ("体检套餐券", 40, Decimal("100.00")),
)
PARTNER_PLACES = ("湘湖", "萧然", "城河", "江寺", "西河", "南门", "北干", "金城", "育才")
PARTNER_KINDS = (
    "超市",
    "药房",
    "书店",
    "银行网点",
    "理发店",
    "餐厅",
    "健身房",
    "眼镜店",
    "花店",
    "照相馆",
)
OTHER_KINDS = (
    (ActivityKind.ENVIRONMENT, "背街小巷清洁行动"),
    (ActivityKind.CIVILITY, "新时代文明实践宣讲"),
    (ActivityKind.SAFETY, "平安巡防"),
    (ActivityKind.YOUTH, "“公益红娘”青年交友服务"),
)


def _staff(street: Area) -> tuple[User, list[User]]:
    """The street's administrator, and staff of its communities and offices (two at least)."""
    grants = RoleGrant.objects.filter(revoked_at__isnull=True, area__path__startswith=street.path)
    admin = grants.filter(role=Role.ADMINISTRATOR, area=street).select_related("user").first()
    others = [
        g.user
        for g in grants.filter(role__in=[Role.HANDLER, Role.LEADER, Role.DISPATCHER])
        .select_related("user")
        .order_by("user__username")
    ]
    if admin is None or len(others) < 2:
        raise services.ParticipationRefused("演示街道缺少系统管理员或工作人员")
    return admin.user, others


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    zone = timezone.get_default_timezone()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


class _Builder:
    def __init__(self, demo: DemoStreet, year: int) -> None:
        self.demo, self.year, self.street = demo, year, demo.street
        seed = f"shanzhi:{demo.seed}:{demo.street.code}:participation"
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.admin, self.staff = _staff(self.street)
        people = Person.objects.filter(street=self.street, deleted_at__isnull=True)
        self.people = list(people.order_by("pk").values_list("pk", flat=True))
        self.young = list(
            people.filter(birth_date__year__gte=year - 32, birth_date__year__lte=year - 18)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.communities = list(
            Area.objects.filter(street=self.street, level=Level.COMMUNITY).order_by("code")
        )

    def person(self, pk: int) -> Person:
        return Person.objects.select_related("area").get(pk=pk)

    # 民生实事 ----------------------------------------------------------------------------

    def _voters(self, round_: Round, count: int, deputies: int) -> list[Voter]:
        chosen = self.rng.sample(self.people, count + deputies)
        return [
            services.voter_register(
                round_=round_,
                person=self.person(pk),
                kind=VoterKind.DEPUTY if i < deputies else VoterKind.COUNCIL,
                actor=self.admin,
            )
            for i, pk in enumerate(chosen)
        ]

    def _step(self, round_: Round, *steps: str) -> Round:
        for step in steps:
            round_ = {
                "open": services.round_stage_open,
                "close": services.round_stage_close,
                "advance": services.round_advance,
            }[step](round_=round_, actor=self.admin)
        return round_

    def street_round(self) -> Round:
        """The demo year's street round, from 征集 in January to the projects at year's end."""
        year, rng = self.year, self.rng
        with clock.acting_at(_at(date(year, 1, 3), 9)):
            round_ = services.round_create(
                actor=self.admin,
                area=self.street,
                year=year,
                title=f"{year}年{self.street.name}民生实事",
                seats=6,
                min_picks=3,
                max_picks=6,
            )
            round_ = self._step(round_, "open")
        titles = [title for title, _ in STREET_PROJECTS] + [
            "社区文化家园提升",
            "儿童友好空间建设",
        ]
        proposals = []
        for i, title in enumerate([*titles, *(t for t, _ in DROPPED)]):
            area = self.communities[i % len(self.communities)] if self.communities else self.street
            with clock.acting_at(_at(date(year, 1, 5 + i), 10)):
                proposals.append(
                    services.proposal_submit(
                        round_=round_,
                        area=area,
                        title=title,
                        description=f"居民建议:{title}。",
                        place=f"{area.name}辖区",
                        estimated_cost=Decimal(rng.randrange(80, 900)),
                        beneficiaries=f"{area.name}居民",
                        proposer_name=rng.choice(["王阿姨", "李师傅", "张先生", "陈女士"]),
                        actor=self.staff[0] if i % 3 == 0 else None,
                    )
                )
        with clock.acting_at(_at(date(year, 1, 20), 9)):
            round_ = self._step(round_, "close", "advance", "open")
            drops = dict(DROPPED)
            for proposal in proposals:
                services.proposal_shortlist(
                    proposal=proposal,
                    actor=self.staff[0],
                    keep=proposal.title not in drops,
                    reason=drops.get(proposal.title, ""),
                )
            round_ = self._step(round_, "close", "advance", "open")
            voters = self._voters(round_, 30, 5)
        with clock.acting_at(_at(date(year, 2, 20), 14)):
            round_ = self._step(round_, "close", "advance", "open")
        favoured = {title for title, _ in STREET_PROJECTS}
        candidates = [p for p in proposals if p.title in favoured or p.title in titles[6:]]
        for i, voter in enumerate(voters[:-2]):
            # Most members back the six the deliberation settled on; a few swap one.
            picks = [p.pk for p in candidates if p.title in favoured]
            if rng.random() < 0.3:
                picks[rng.randrange(len(picks))] = rng.choice(candidates[6:]).pk
            with clock.acting_at(_at(date(year, 2, 20), 14, 5 + i // 10)):
                if i % 15 == 0:  # paper ballots, each entered by two staff
                    for clerk in self.staff[:2]:
                        services.paper_ballot_enter(voter=voter, proposal_ids=picks, actor=clerk)
                else:
                    services.ballot_cast(voter=voter, proposal_ids=picks)
        with clock.acting_at(_at(date(year, 2, 20), 15, 30)):
            round_ = self._step(round_, "close", "advance")
        self._track(round_, voters)
        return round_

    def _track(self, round_: Round, voters: list[Voter]) -> None:
        """15 sub-items over the year: 7 done ahead of time, the rest under way."""
        year, rng = self.year, self.rng
        statuses = {s.name: s for s in ProjectStatus.objects.filter(street__isnull=True)}
        subs = dict(STREET_PROJECTS)
        done_left = 7
        for project in Project.objects.filter(round=round_).order_by("pk"):
            with clock.acting_at(_at(date(year, 3, 1), 9)):
                items = [
                    services.sub_item_add(project=project, title=title, actor=self.admin)
                    for title in subs.get(project.title, ("实施",))
                ]
                services.milestone_add(
                    project=project, title="完成方案设计", due=date(year, 4, 30), actor=self.admin
                )
                services.milestone_add(
                    project=project, title="竣工验收", due=date(year, 12, 31), actor=self.admin
                )
            for month, item in zip(range(4, 12), items, strict=False):
                finish = done_left > 0
                done_left -= int(finish)
                status = statuses["已完成" if finish else rng.choice(["施工实施", "基本完成"])]
                with clock.acting_at(_at(date(year, month, 15), 10)):
                    project.refresh_from_db()
                    services.project_update(
                        project=project,
                        sub_item=item,
                        status=status,
                        note=f"{item.title}:{status.name}",
                        actor=self.staff[0],
                        expected_version=project.version,
                    )
            project.refresh_from_db()
            if project.status.completes:
                with clock.acting_at(_at(date(year, 12, 20), 10)):
                    services.evaluation_open(project=project, actor=self.admin)
                    for voter in voters[:25]:
                        services.evaluation_give(
                            project=project,
                            voter=voter,
                            verdict=rng.choices(
                                ["satisfied", "basically", "unsatisfied"], [80, 17, 3]
                            )[0],
                        )

    def community_rounds(self) -> list[Round]:
        """For the year after, one community round at each stage before 公布."""
        rounds = []
        stages = (Stage.COLLECTING, Stage.SHORTLISTING, Stage.DELIBERATING, Stage.VOTING)
        places = self.communities or [self.street]
        for i, stage in enumerate(stages):
            community = places[i % len(places)]
            round_ = services.round_create(
                actor=self.admin,
                area=community,
                year=self.year + 1,
                title=f"{community.name}民生微实事(第{i + 1}批)",
                seats=2,
                min_picks=1,
                max_picks=2,
            )
            round_ = self._step(round_, "open")
            for i, title in enumerate(("加装休闲座椅", "楼道灯改造", "非机动车棚", "小区健身角")):
                services.proposal_submit(
                    round_=round_,
                    area=community,
                    title=title,
                    description=f"{community.name}居民建议{title}",
                    place=f"{community.name}{i + 1}号小区",
                    estimated_cost=Decimal(self.rng.randrange(2, 30)),
                    beneficiaries=f"{community.name}居民",
                )
            if stage == Stage.COLLECTING:
                rounds.append(round_)
                continue
            round_ = self._step(round_, "close", "advance", "open")
            if stage != Stage.SHORTLISTING:
                for proposal in round_.proposals.all():
                    services.proposal_shortlist(proposal=proposal, actor=self.staff[0], keep=True)
                round_ = self._step(round_, "close", "advance", "open")
                voters = self._voters(round_, 12, 1)
            if stage == Stage.VOTING:
                round_ = self._step(round_, "close", "advance", "open")
                ids = list(round_.proposals.values_list("pk", flat=True))
                for voter in voters[:7]:
                    services.ballot_cast(voter=voter, proposal_ids=self.rng.sample(ids, 2))
            rounds.append(round_)
        return rounds

    # 志愿服务 ----------------------------------------------------------------------------

    def volunteering(self) -> None:
        year, rng = self.year, self.rng
        with clock.acting_at(_at(date(year, 1, 2), 9)):
            services.point_rule_set(
                street=self.street, kind=ActivityKind.ELDERLY, per_hour=10, per_activity=5
            )
            for kind, _ in OTHER_KINDS:
                services.point_rule_set(street=self.street, kind=kind, per_hour=10, per_activity=0)
            young = rng.sample(self.young, min(YOUTH_VOLUNTEERS, len(self.young)))
            others = rng.sample(
                [pk for pk in self.people if pk not in set(young)],
                min(OTHER_VOLUNTEERS, len(self.people) - len(young)),
            )
            youth = [
                services.volunteer_register(person=self.person(pk), actor=self.admin)
                for pk in young
            ]
            rest = [
                services.volunteer_register(person=self.person(pk), actor=self.admin)
                for pk in others
            ]
            partners = [
                services.partner_add(
                    street=self.street,
                    name=_partner_name(i),
                    actor=self.admin,
                )
                for i in range(PARTNERS)
            ]
            rewards = [
                services.reward_add(
                    partner=partners[i % PARTNERS],
                    name=name,
                    points=points,
                    value=value,
                    stock=400,
                    actor=self.admin,
                )
                for i, (name, points, value) in enumerate(REWARDS * 15)
            ]
        area = self.communities[0] if self.communities else self.street
        # The youth service: 195 services to elderly residents in 65 visits, 390 hours.
        for week, attendees in enumerate(_spread(YOUTH_SERVICES, YOUTH_VISITS, rng)):
            self._serve(
                area,
                ActivityKind.ELDERLY,
                "青年志愿者助老陪伴",
                date(year, 1, 8) + timedelta(days=week * 5),
                YOUTH_HOURS,
                rng.sample(youth, min(attendees, len(youth))),
            )
        # Other activities: three a month across the communities.
        places = self.communities or [self.street]
        for month in range(1, 13):
            for k in range(3):
                kind, title = OTHER_KINDS[(month + k) % len(OTHER_KINDS)]
                self._serve(
                    places[(month * 3 + k) % len(places)],
                    kind,
                    title,
                    date(year, month, 10 + k * 8),
                    Decimal(rng.choice(["2.0", "2.5", "3.0"])),
                    rng.sample(rest, min(len(rest), rng.randrange(10, 20))),
                )
        self._exchanges([*youth, *rest], rewards)

    def _serve(
        self, area: Area, kind: str, title: str, day: date, hours: Decimal, volunteers: list
    ) -> None:
        start = _at(day, 9)
        with clock.acting_at(start - timedelta(days=3)):
            activity = services.activity_create(
                actor=self.staff[0],
                area=area,
                title=title,
                kind=kind,
                organiser=f"{area.name}新时代文明实践站",
                place=f"{area.name}党群服务中心",
                starts_at=start,
                ends_at=start + timedelta(minutes=int(hours * 60)),
                places=max(len(volunteers), 1),
                hours=hours,
            )
            signups = [
                services.activity_sign_up(activity=activity, volunteer=v) for v in volunteers
            ]
        with clock.acting_at(start):
            for signup in signups:
                services.attendance_sign_in(signup=signup, actor=self.staff[0])

    def _exchanges(self, volunteers: list, rewards: list[Reward]) -> None:
        """Exchanges through the year, at the counter and on the phone, until 2.5万余元."""
        total, rng = Decimal(0), self.rng
        day = date(self.year, 3, 1)
        while total < EXCHANGE_TARGET and day.year == self.year:
            for volunteer in rng.sample(volunteers, min(12, len(volunteers))):
                balance = selectors.points_balance(volunteer)
                affordable = [r for r in rewards if r.points <= balance]
                if not affordable or total >= EXCHANGE_TARGET:
                    continue
                reward = rng.choice(affordable)
                phone = rng.random() < 0.6
                with clock.acting_at(_at(day, 15, rng.randrange(60))):
                    services.reward_exchange(
                        volunteer=volunteer,
                        reward=reward,
                        channel="phone" if phone else "counter",
                        actor=None if phone else self.staff[1],
                    )
                total += reward.value
            day += timedelta(days=3)


def _partner_name(i: int) -> str:
    return f"{PARTNER_PLACES[i // len(PARTNER_KINDS)]}{PARTNER_KINDS[i % len(PARTNER_KINDS)]}"


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` positive whole numbers, unevenly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


def demo_participation(*, demo: DemoStreet, year: int) -> str:
    """The demo street's 民生实事 rounds and a year of volunteer service; says what was made."""
    if not Person.objects.filter(street=demo.street).exists():
        return "未生成民生实事与志愿服务:需要居民登记(去掉 --no-registry)"
    started = time.monotonic()
    builder = _Builder(demo, year)
    published = builder.street_round()
    rounds = builder.community_rounds()
    builder.volunteering()
    activities = Activity.objects.filter(street=demo.street, starts_at__year=year)
    hours = SignUp.objects.filter(activity__in=activities, signed_in_at__isnull=False).aggregate(
        total=Sum("hours")
    )["total"]
    value = Exchange.objects.filter(volunteer__street=demo.street).aggregate(total=Sum("value"))[
        "total"
    ]
    chosen = Project.objects.filter(round=published).count()
    return (
        f"已生成民生实事与志愿服务,用时 {time.monotonic() - started:.1f} 秒:"
        f"{year}年票决产生民生实事 {chosen} 个,另有 {len(rounds)} 个社区轮次处于征集至票决各阶段;"
        f"志愿服务活动 {activities.count()} 场、计时 {hours} 小时,共建单位 {PARTNERS} 家,"
        f"兑换价值 {value:.2f} 元"
    )
