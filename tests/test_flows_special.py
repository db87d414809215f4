"""The four specialised flows as the law and practice state them: hazards, petitions, disputes and
enterprise appeals, with their statutory windows on dates that cross holidays."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from docx import Document

from shanzhi import clock
from shanzhi.analytics.periods import period_parse
from shanzhi.analytics.selectors import Scope, figures_compute
from shanzhi.cases import services
from shanzhi.cases.documents import case_documents, document_docx
from shanzhi.cases.errors import InvalidInput, MissingInput, TransitionRefused
from shanzhi.cases.models import CaseClock, Source
from shanzhi.errors import PermissionDenied

from .case_factories import case_type, photo, police
from .registry_factories import make_enterprise

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
act = services.case_act


def at(*parts: int):
    return clock.acting_at(datetime(*parts, tzinfo=SHANGHAI))


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)


def report(world, code: str, *, source=Source.HOTLINE, actor=None, **extra):
    case, _ = services.case_report(
        area=world.microgrid,
        source=source,
        actor=actor or world.dispatcher,
        description="居民反映的问题描述",
        reporter_name="张三",
        reporter_phone="13800001111",
        case_type=case_type(world, code),
        **extra,
    )
    return case


INSPECTION = {"record": "现场检查记录", "inspector": "王建华、李明", "signature": "signed"}


# 安全隐患 ----------------------------------------------------------------------------------------


def test_a_hazard_is_graded_ordered_rectified_reinspected_and_signed_off(world):
    enterprise = make_enterprise(world)
    with at(2025, 9, 22, 10, 0):
        case = report(world, "AQ-SC-01", source=Source.GRID_PATROL, actor=world.grid_worker)
        assert (case.flow, case.state) == ("hazard", "reported")
        with pytest.raises(MissingInput, match="拒签情况"):
            act(
                case=case,
                actor=world.dispatcher,
                action="grade",
                hazard_grade="重大",
                checklist_item="消防通道是否畅通",
                **(INSPECTION | {"signature": "refused"}),
            )
        case = act(
            case=case,
            actor=world.dispatcher,
            action="grade",
            hazard_grade="重大",
            checklist_item="消防通道是否畅通",
            subject=enterprise,
            **INSPECTION,
        )
    assert case.extra["hazard_grade"] == "重大" and case.accepted_at is not None
    assert case.registry_links.filter(enterprise=enterprise).exists()
    with at(2025, 9, 22, 14, 0), pytest.raises(InvalidInput, match="整改期限须晚于今天"):
        act(
            case=case,
            actor=world.dispatcher,
            action="order",
            orders="清理通道",
            unit=police(world),
            rectify_deadline=date(2025, 9, 22),
        )
    with at(2025, 9, 22, 14, 0):
        # The deadline is chosen for this hazard: the 9th of October, after the holidays.
        case = act(
            case=case,
            actor=world.dispatcher,
            action="order",
            orders="清理通道,拆除违规设施",
            unit=police(world),
            rectify_deadline=date(2025, 10, 9),
        )
    assert case.state == "rectifying" and case.handle_due_at == end_of(date(2025, 10, 9))
    assert [d.spec.title for d in case_documents(case)] == ["隐患整改通知书"]
    notice = Document(io.BytesIO(document_docx(case_documents(case)[0])))
    text = "\n".join(p.text for p in notice.paragraphs)
    assert "隐患整改通知书" in text and "2025-10-09" in text and "安全生产法" in text
    # A major hazard is put under listed supervision, once, by a leader.
    with at(2025, 9, 23, 9, 0):
        listing = {
            "listed_leader": "副主任 李四",
            "listed_measures": "专班整改",
            "listed_funds": Decimal("12.5"),
            "listed_deadline": date(2025, 10, 9),
            "contingency": "现场警戒,人员疏散",
        }
        with pytest.raises(PermissionDenied):
            act(case=case, actor=world.dispatcher, action="list_supervision", **listing)
        case = act(case=case, actor=world.leader, action="list_supervision", **listing)
        with pytest.raises(TransitionRefused, match="尚未挂牌"):
            act(case=case, actor=world.leader, action="list_supervision", **listing)
    with at(2025, 9, 30, 10, 0):
        with pytest.raises(MissingInput, match="整改后照片"):
            act(
                case=case,
                actor=world.handler,
                action="request_reinspection",
                rectification="已整改",
            )
        case = act(
            case=case,
            actor=world.handler,
            action="request_reinspection",
            rectification="已清理",
            photos=[photo()],
        )
    with at(2025, 10, 9, 10, 0):
        case = act(
            case=case,
            actor=world.dispatcher,
            action="fail_reinspection",
            rectify_deadline=date(2025, 10, 20),
            **(INSPECTION | {"record": "通道仍被占用"}),
        )
    assert case.state == "rectifying" and case.handle_due_at == end_of(date(2025, 10, 20))
    with at(2025, 10, 15, 10, 0):
        case = act(
            case=case,
            actor=world.handler,
            action="request_reinspection",
            rectification="已彻底清理",
            photos=[photo()],
        )
    with at(2025, 10, 16, 10, 0):
        case = act(case=case, actor=world.dispatcher, action="pass_reinspection", **INSPECTION)
    assert case.state == "signed_off" and case.resolved_at and case.archived_at
    assert case.extra["delisted_on"] == "2025-10-16"
    assert (
        case.actions.filter(action="request_reinspection", data__rectified_on_time=True).count()
        == 2
    )
    figures = figures_compute(
        viewer=world.leader,
        kpis=["hazards", "major_hazards", "hazard_rate", "reinspections_failed", "hazards_overdue"],
        scope=Scope(area=world.street),
        period=period_parse("2025"),
        as_of=datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    assert figures["hazards"].numerator == figures["major_hazards"].numerator == 1
    assert figures["hazard_rate"].value == 100
    assert figures["reinspections_failed"].numerator == 1
    assert figures["hazards_overdue"].numerator == 0


def test_an_overdue_rectification_is_supervised_by_the_sweep_once(world):
    with at(2025, 3, 3, 9, 0):
        case = report(world, "AQ-XF-03")
        case = act(
            case=case,
            actor=world.dispatcher,
            action="grade",
            hazard_grade="一般",
            checklist_item="灭火器",
            **INSPECTION,
        )
        case = act(
            case=case,
            actor=world.dispatcher,
            action="order",
            orders="更换灭火器",
            unit=police(world),
            rectify_deadline=date(2025, 3, 5),
        )
    with at(2025, 3, 6, 9, 0):
        first = services.sweep_run()
        again = services.sweep_run()
    assert (first.supervised, again.supervised) == (1, 0)
    case.refresh_from_db()
    assert case.supervise_count == 1
    assert case.actions.get(action="supervise").note == "隐患已超过整改期限,系统自动督办"


# 信访 --------------------------------------------------------------------------------------------

REGISTRATION = {
    "petition_form": "来访",
    "petitioner": "张三",
    "petitioner_address": "湘湖社区景港府1幢",
    "request": "要求解决小区违建问题",
    "facts": "邻居在楼顶违章搭建阳光房",
    "reasons": "影响采光和安全",
}


def test_the_petition_windows_count_calendar_days_and_skip_to_after_the_holiday(world):
    with at(2025, 9, 17, 10, 0):
        case = report(world, "XF-CF-01", source=Source.PETITION)
        with pytest.raises(InvalidInput, match="最多5项"):
            act(
                case=case,
                actor=world.dispatcher,
                action="register",
                representatives=["甲", "乙", "丙", "丁", "戊", "己"],
                **REGISTRATION,
            )
        case = act(
            case=case,
            actor=world.dispatcher,
            action="register",
            representatives=["甲", "乙"],
            **REGISTRATION,
        )
    notice = CaseClock.objects.get(case=case, name="notice")
    # 15 days from 17 September is 2 October, inside the National Day holiday: the 9th.
    assert notice.due_at == end_of(date(2025, 10, 9))
    with at(2025, 9, 26, 15, 0):
        case = act(
            case=case,
            actor=world.dispatcher,
            action="forward",
            organ="区人社局",
            reason="属区级职权",
        )
    objection = CaseClock.objects.get(case=case, name="objection")
    # 5 working days from Friday 26 September: Sun 28 (调休 working day), 29, 30, 9 and 10 Oct.
    assert objection.due_at == end_of(date(2025, 10, 10))
    assert case.actions.get(action="forward").data["notice_on_time"] is True
    with at(2025, 10, 13, 9, 0), pytest.raises(TransitionRefused, match="5个工作日"):
        act(case=case, actor=world.dispatcher, action="object", objection="不应转送")
    with at(2025, 10, 10, 9, 0):
        case = act(case=case, actor=world.dispatcher, action="object", objection="不应转送")
    assert case.state == "registered" and case.archived_at is None


def test_a_petition_from_registration_to_review_and_the_papers_it_issues(world):
    with at(2025, 8, 1, 10, 0):
        case = report(world, "XF-CF-01", source=Source.PETITION)
        case = act(case=case, actor=world.dispatcher, action="register", **REGISTRATION)
    with at(2025, 8, 20, 10, 0):
        # Told after the 15 days: the notice is late, and the figure says so.
        case = act(case=case, actor=world.dispatcher, action="notify_accept", unit=police(world))
    assert case.handle_due_at == end_of(date(2025, 10, 20))  # 60 days: 19 October is a Sunday
    with at(2025, 9, 1, 10, 0):
        with pytest.raises(InvalidInput, match="不能大于30"):
            act(case=case, actor=world.handler, action="ask_extension", days=31, reason="x")
        case = act(
            case=case, actor=world.handler, action="ask_extension", days=30, reason="情况复杂"
        )
        case = act(
            case=case, actor=world.leader, action="grant_extension", notice="已书面告知信访人"
        )
    assert case.handle_due_at == end_of(date(2025, 11, 19))
    with at(2025, 9, 2, 10, 0):
        case = act(
            case=case,
            actor=world.handler,
            action="issue_opinion",
            opinion="责令当事人限期拆除",
            decision="支持",
            opinion_facts="经查,违建属实",
            legal_basis="《城乡规划法》第六十四条",
        )
    with at(2025, 9, 4, 10, 0):
        with pytest.raises(InvalidInput, match="不能晚于今天"):
            act(
                case=case,
                actor=world.dispatcher,
                action="serve",
                served_on=date(2025, 9, 5),
                served_by="直接送达",
            )
        case = act(
            case=case,
            actor=world.dispatcher,
            action="serve",
            served_on=date(2025, 9, 3),
            served_by="直接送达",
        )
    window = CaseClock.objects.get(case=case, name="review_window")
    assert window.due_at == end_of(date(2025, 10, 9))  # 30 days from 3 Sept fall on 3 October
    with at(2025, 9, 20, 10, 0):
        case = act(
            case=case,
            actor=world.dispatcher,
            action="request_review",
            review_request="不服处理意见",
            unit=police(world),
        )
    assert case.state == "reviewing"
    titles = [d.spec.title for d in case_documents(case)]
    assert titles == ["信访事项受理告知书", "信访事项处理意见书"]
    opinion = Document(io.BytesIO(document_docx(case_documents(case)[1])))
    body = "\n".join(p.text for p in opinion.paragraphs)
    assert "城乡规划法" in body and "30日内请求原办理机关的上一级机关复查" in body
    figures = figures_compute(
        viewer=world.leader,
        kpis=["petitions", "petition_notice_rate", "petition_review_rate", "petition_on_time_rate"],
        scope=Scope(area=world.street),
        period=period_parse("2025"),
        as_of=datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    assert figures["petitions"].numerator == 1
    assert figures["petition_notice_rate"].value == 0  # told on day 19
    assert figures["petition_review_rate"].value == 100
    assert figures["petition_on_time_rate"].value == 100


def test_an_unreviewed_opinion_concludes_when_the_window_runs_out_and_a_repeat_is_flagged(world):
    with at(2025, 3, 3, 10, 0):
        first = report(world, "XF-CF-01", source=Source.PETITION)
        first = act(case=first, actor=world.dispatcher, action="register", **REGISTRATION)
        first = act(case=first, actor=world.dispatcher, action="notify_accept", unit=police(world))
        first = act(
            case=first,
            actor=world.handler,
            action="issue_opinion",
            opinion="已答复",
            decision="解释说明",
            opinion_facts="事实",
            legal_basis="依据",
        )
        first = act(
            case=first,
            actor=world.dispatcher,
            action="serve",
            served_on=date(2025, 3, 3),
            served_by="邮寄送达",
        )
    with at(2025, 4, 2, 10, 0):
        services.sweep_run()
    first.refresh_from_db()
    assert first.state == "served"  # 2 April is the 30th day: still open
    with at(2025, 4, 3, 10, 0):
        report_ = services.sweep_run()
    first.refresh_from_db()
    assert (first.state, report_.expired) == ("concluded", 1)
    with at(2025, 6, 1, 10, 0):
        second = report(world, "XF-CF-01", source=Source.PETITION)
        second = act(case=second, actor=world.dispatcher, action="register", **REGISTRATION)
    assert second.extra["repeat_of"] == first.number


# 矛盾纠纷 ----------------------------------------------------------------------------------------


def test_a_dispute_is_mediated_with_its_clock_paused_and_ends_in_an_agreement(world):
    with at(2025, 5, 5, 9, 0):
        case = report(world, "MD-LL-01")
        case = act(
            case=case,
            actor=world.dispatcher,
            action="accept_mediation",
            dispute="漏水纠纷",
            mediation_kind="当事人申请",
            parties=["张三", "李四"],
            unit=police(world),
            mediator="王调解员",
        )
    assert case.handle_due_at == end_of(date(2025, 6, 4))
    with at(2025, 5, 6, 9, 0):
        case = act(
            case=case,
            actor=world.handler,
            action="record_session",
            minutes="第一次调解",
            session_on=date(2025, 5, 6),
            present="双方",
            mediator="王调解员",
        )
        case = act(case=case, actor=world.handler, action="pause", reason="等待当事人返回")
    assert case.handle_due_at is None
    with at(2025, 5, 16, 9, 0):
        case = act(case=case, actor=world.handler, action="resume")
    # The ten paused days do not count.
    assert case.handle_due_at == end_of(date(2025, 6, 4)) + timedelta(days=10)
    with at(2025, 5, 20, 9, 0):
        case = act(
            case=case,
            actor=world.handler,
            action="reach_agreement",
            terms="李四赔偿2000元",
            parties=["张三", "李四"],
            facts="李四家漏水致张三家受损",
            performance="5月31日前付清",
        )
    assert case.state == "agreed" and case.resolution == "李四赔偿2000元"
    paper = Document(io.BytesIO(document_docx(case_documents(case)[0])))
    text = "\n".join(p.text for p in paper.paragraphs)
    assert "人民调解协议书" in text and "张三;李四" in text and "司法确认" in text
    with at(2025, 6, 25, 9, 0), pytest.raises(TransitionRefused, match="30日"):
        act(
            case=case,
            actor=world.handler,
            action="judicial_confirmation",
            court="萧山区法院",
            confirmed_on=date(2025, 6, 25),
        )
    with at(2025, 6, 1, 9, 0):
        case = act(
            case=case,
            actor=world.handler,
            action="follow_up",
            performed="已履行",
            satisfaction="satisfied",
        )
    assert case.state == "closed"
    figures = figures_compute(
        viewer=world.leader,
        kpis=["disputes", "dispute_rate"],
        scope=Scope(area=world.street),
        period=period_parse("2025"),
        as_of=datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    assert (figures["disputes"].numerator, figures["dispute_rate"].value) == (1, 100)


# 企业诉求 ----------------------------------------------------------------------------------------


def test_an_enterprise_appeal_needs_its_enterprise_and_an_unhappy_rating_reopens_it(world):
    enterprise = make_enterprise(world)
    with at(2025, 4, 1, 9, 0):
        case = report(world, "QY-ZC-01", source=Source.ENTERPRISE)
        with pytest.raises(MissingInput, match="统一社会信用代码"):
            act(case=case, actor=world.dispatcher, action="dispatch_appeal", unit=police(world))
        case = act(
            case=case,
            actor=world.dispatcher,
            action="dispatch_appeal",
            enterprise=enterprise,
            unit=police(world),
        )
        case = act(case=case, actor=world.handler, action="claim")
        case = act(case=case, actor=world.handler, action="reply", reply="已协调")
        case = act(
            case=case,
            actor=world.dispatcher,
            action="evaluate",
            satisfaction="unsatisfied",
            note="仍未解决",
        )
    assert (case.state, case.reopen_count, case.unit_id) == ("dispatched", 1, police(world).pk)
    assert case.registry_links.filter(enterprise=enterprise).exists()
