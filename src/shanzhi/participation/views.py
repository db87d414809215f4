"""Pages of 民生实事 and 志愿服务: the staff's (rounds, the live tally, projects, volunteering) and
the phone pages residents, council members and volunteers open from a QR code or their own link.

Views only translate: policy decides who, services write, selectors read.
"""

import io
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

import segno
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi import clock, policy, ratelimit
from shanzhi.areas.models import Area
from shanzhi.errors import DomainError, NotFound
from shanzhi.uploads import photo_response
from shanzhi.web.views_cases import signed_in, staff_page

from . import selectors, services
from .forms import (
    ActivityForm,
    CounterExchangeForm,
    DecideForm,
    MilestoneForm,
    PaperBallotForm,
    PartnerForm,
    PicksForm,
    ProposalForm,
    RewardForm,
    RoundForm,
    SignUpForm,
    SubItemForm,
    UpdateForm,
    VolunteerForm,
    VoterForm,
)
from .models import (
    Activity,
    Ballot,
    Milestone,
    PartnerUnit,
    Project,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Reward,
    Round,
    SignUp,
    Stage,
    UpdatePhoto,
    Verdict,
    Volunteer,
    Voter,
)

PROPOSAL_LIMIT = 10
PROPOSAL_WINDOW_SECONDS = 600
ViewFunc = Callable[..., HttpResponse]


def participation_page(view: ViewFunc) -> ViewFunc:
    """A staff page of the participation roles; what the policy does not show them is a 404."""

    @wraps(view)
    def translated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return cast(ViewFunc, staff_page(policy.can_use_participation)(translated))


def _refused(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.message)


# Rounds ------------------------------------------------------------------------------------


@participation_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """/participation/: the rounds of the user's part of the grid, and a new one."""
    user = signed_in(request)
    rounds = policy.rounds_visible_to(user).select_related("area")
    form = RoundForm(
        areas=policy.participation_areas_for(user),
        initial={"year": clock.now().year, "seats": 5, "min_picks": 1, "max_picks": 5},
    )
    return render(request, "participation/home.html", {"rounds": rounds, "form": form})


@participation_page
@require_POST
def round_new(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = RoundForm(request.POST, areas=policy.participation_areas_for(user))
    if form.is_valid():
        data = form.cleaned_data
        if not policy.can_set_up_round(user, data["area"]):
            messages.error(request, "只有该辖区的系统管理员可以设立民生实事轮次")
            return redirect("participation_home")
        try:
            round_ = services.round_create(
                actor=user,
                area=data["area"],
                year=data["year"],
                title=data["title"],
                seats=data["seats"],
                min_picks=data["min_picks"],
                max_picks=data["max_picks"],
                threshold_percent=data["threshold_percent"],
            )
        except DomainError as exc:
            _refused(request, exc)
        else:
            return redirect("participation_round", pk=round_.pk)
    else:
        messages.error(request, _first_error(form))
    return redirect("participation_home")


def _round_context(request: HttpRequest, round_: Round) -> dict[str, Any]:
    user = signed_in(request)
    candidates = round_.proposals.filter(status=ProposalStatus.CANDIDATE)
    voters = round_.voters.select_related("person").prefetch_related("paper_entry")
    return {
        "round": round_,
        "stages": list(Stage),
        "can_manage": policy.can_manage_round(user, round_),
        "can_work": policy.can_work_round(user, round_),
        "proposals": round_.proposals.select_related("area"),
        "voters": voters,
        "proposal_form": ProposalForm(),
        "voter_form": VoterForm(),
        "paper_form": PaperBallotForm(
            candidates=candidates, voters=voters.filter(ballot__isnull=True)
        ),
        "tally": selectors.round_result(round_),
        "projects": round_.projects.select_related("status", "area"),
        "events": round_.events.select_related("actor"),
        "propose_url": _absolute(request, "participation_public_propose", round_.area.code),
    }


def _absolute(request: HttpRequest, name: str, *args: Any) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


@participation_page
@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = policy.round_for(signed_in(request), pk)
    return render(request, "participation/round.html", _round_context(request, round_))


ROUND_STEPS: dict[str, Callable[..., Round]] = {
    "open": services.round_stage_open,
    "close": services.round_stage_close,
    "advance": services.round_advance,
}


@participation_page
@require_POST
def round_step(request: HttpRequest, pk: int) -> HttpResponse:
    """Open or close the current stage, or move on to the next (publishing after 票决)."""
    user = signed_in(request)
    round_ = policy.round_for(user, pk)
    step = ROUND_STEPS.get(request.POST.get("step", ""))
    if step is None or not policy.can_manage_round(user, round_):
        messages.error(request, "只有该辖区的系统管理员可以开启、结束或推进阶段")
    else:
        try:
            step(round_=round_, actor=user)
        except DomainError as exc:
            _refused(request, exc)
    return redirect("participation_round", pk=pk)


def _work_round(request: HttpRequest, pk: int) -> Round | None:
    round_ = policy.round_for(signed_in(request), pk)
    if not policy.can_work_round(signed_in(request), round_):
        messages.error(request, "您无权办理该轮次")
        return None
    return round_


@participation_page
@require_POST
def round_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """A proposal gathered at a meeting, entered by staff."""
    round_ = _work_round(request, pk)
    if round_ is not None:
        form = ProposalForm(request.POST)
        if form.is_valid():
            try:
                services.proposal_submit(
                    round_=round_, area=round_.area, actor=signed_in(request), **form.cleaned_data
                )
                messages.success(request, "已录入提议")
            except DomainError as exc:
                _refused(request, exc)
        else:
            messages.error(request, "提议填写不完整,请检查各项")
    return redirect("participation_round", pk=pk)


@participation_page
@require_POST
def proposal_decide(request: HttpRequest, pk: int, proposal: int) -> HttpResponse:
    round_ = _work_round(request, pk)
    if round_ is not None:
        chosen = get_object_or_404(Proposal, pk=proposal, round=round_)
        form = DecideForm(request.POST)
        if form.is_valid():
            try:
                services.proposal_shortlist(
                    proposal=chosen,
                    actor=signed_in(request),
                    keep=form.cleaned_data["keep"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                _refused(request, exc)
    return redirect("participation_round", pk=pk)


@participation_page
@require_POST
def round_voter(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = _work_round(request, pk)
    if round_ is not None:
        form = VoterForm(request.POST)
        if not form.is_valid():
            messages.error(request, _first_error(form))
        else:
            try:
                person = policy.person_for_id_number(
                    signed_in(request), form.cleaned_data["id_number"]
                )
                services.voter_register(
                    round_=round_,
                    person=person,
                    kind=form.cleaned_data["kind"],
                    actor=signed_in(request),
                )
                messages.success(request, f"已登记代表{person.name}")
            except DomainError as exc:
                _refused(request, exc)
    return redirect("participation_round", pk=pk)


@participation_page
@require_POST
def round_paper(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry of a paper ballot; the second entry by another staff member counts it."""
    round_ = _work_round(request, pk)
    if round_ is not None:
        form = PaperBallotForm(
            request.POST,
            candidates=round_.proposals.filter(status=ProposalStatus.CANDIDATE),
            voters=round_.voters.all(),
        )
        if not form.is_valid():
            messages.error(request, "请选择代表和所选项目")
        else:
            voter = form.cleaned_data["voter"]
            try:
                ballot = services.paper_ballot_enter(
                    voter=voter,
                    proposal_ids=[p.pk for p in form.cleaned_data["picks"]],
                    actor=signed_in(request),
                )
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(
                    request,
                    f"{voter.person.name}的纸质选票已计入"
                    if ballot
                    else f"已记录{voter.person.name}纸质选票的第一次录入,请另一名工作人员再录一次",
                )
    return redirect("participation_round", pk=pk)


@participation_page
@require_GET
def round_voter_links(request: HttpRequest, pk: int) -> HttpResponse:
    """Each voter's own voting link and QR, printed and handed out at the meeting."""
    round_ = _work_round(request, pk)
    if round_ is None:
        return redirect("participation_round", pk=pk)
    voters = [
        {
            "voter": voter,
            "url": _absolute(request, "participation_public_vote", voter.token),
            "qr": segno.make(
                _absolute(request, "participation_public_vote", voter.token), error="m"
            ).svg_inline(scale=3, border=2),
        }
        for voter in round_.voters.select_related("person")
    ]
    return render(request, "participation/voter_links.html", {"round": round_, "voters": voters})


# The live tally (the meeting's screen) ----------------------------------------------------


@participation_page
@require_GET
def round_tally(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = policy.round_for(signed_in(request), pk)
    return render(
        request,
        "participation/tally.html",
        {"round": round_, "tally": selectors.round_result(round_)},
    )


@participation_page
@require_GET
def round_tally_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The tally alone, which the screen fetches every few seconds (htmx polling)."""
    round_ = policy.round_for(signed_in(request), pk)
    return render(
        request,
        "participation/_tally.html",
        {"round": round_, "tally": selectors.round_result(round_)},
    )


# Projects ----------------------------------------------------------------------------------


def _project_context(
    request: HttpRequest, project: Project, form: UpdateForm | None = None
) -> dict[str, Any]:
    return {
        "project": project,
        "can_update": policy.can_update_project(signed_in(request), project),
        "sub_items": project.sub_items.select_related("status"),
        "milestones": project.milestones.all(),
        "updates": project.updates.select_related("actor", "status", "sub_item").prefetch_related(
            "photos"
        ),
        "form": form
        or UpdateForm(
            statuses=selectors.statuses_of(project.street),
            sub_items=project.sub_items.all(),
            initial={"version": project.version, "status": project.status_id},
        ),
        "sub_item_form": SubItemForm(),
        "milestone_form": MilestoneForm(),
        "evaluation": selectors.evaluation_count(project),
    }


@participation_page
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's sub-items, milestones and updates; staff over its place post progress."""
    user = signed_in(request)
    project = policy.project_for(user, pk)
    if request.method != "POST":
        return render(request, "participation/project.html", _project_context(request, project))
    if not policy.can_update_project(user, project):
        return render(request, "web/cases/forbidden.html", status=403)
    statuses = selectors.statuses_of(project.street)
    form = UpdateForm(
        request.POST, request.FILES, statuses=statuses, sub_items=project.sub_items.all()
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.project_update(
                project=project,
                actor=user,
                status=data["status"],
                sub_item=data["sub_item"],
                progress=data["progress"],
                note=data["note"],
                photos=data["photos"],
                planned_end=data["planned_end"],
                expected_version=data["version"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已更新项目进展")
            return redirect("participation_project", pk=pk)
    context = _project_context(request, project, form)
    return render(request, "participation/project.html", context, status=400)


@participation_page
@require_POST
def project_part(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """Add a sub-item or a milestone, mark a milestone done, or open the evaluation vote."""
    user = signed_in(request)
    project = policy.project_for(user, pk)
    if not policy.can_update_project(user, project):
        return render(request, "web/cases/forbidden.html", status=403)
    try:
        if part == "sub_item":
            form = SubItemForm(request.POST)
            if form.is_valid():
                services.sub_item_add(project=project, actor=user, **form.cleaned_data)
            else:
                messages.error(request, "请填写分项名称;权重须大于0")
        elif part == "milestone":
            milestone_form = MilestoneForm(request.POST)
            if milestone_form.is_valid():
                services.milestone_add(project=project, actor=user, **milestone_form.cleaned_data)
            else:
                messages.error(request, "请填写节点名称和计划日期")
        elif part == "milestone_done":
            milestone = get_object_or_404(
                Milestone, pk=request.POST.get("milestone") or 0, project=project
            )
            services.milestone_done(milestone=milestone, actor=user)
        elif part == "evaluation":
            services.evaluation_open(project=project, actor=user)
    except DomainError as exc:
        _refused(request, exc)
    except ValueError:
        messages.error(request, "参数无效")
    return redirect("participation_project", pk=pk)


# Volunteering ------------------------------------------------------------------------------


@participation_page
@require_GET
def volunteering(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    streets = {a.street_id or a.pk for a in policy.participation_areas_for(user)}
    partners = PartnerUnit.objects.filter(street_id__in=streets)
    rewards = Reward.objects.filter(partner__in=partners, is_active=True).select_related("partner")
    context = {
        "activities": policy.activities_visible_to(user).select_related("area")[:50],
        "volunteer_count": policy.volunteers_visible_to(user).count(),
        "partners": partners,
        "rewards": rewards,
        "activity_form": ActivityForm(areas=policy.participation_areas_for(user)),
        "volunteer_form": VolunteerForm(),
        "partner_form": PartnerForm(),
        "reward_form": RewardForm(partners=partners),
        "exchange_form": CounterExchangeForm(rewards=rewards.filter(stock__gt=0)),
    }
    return render(request, "participation/volunteering.html", context)


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}:{errors[0]}" if label else errors[0]
    return "填写有误"


@participation_page
@require_POST
def volunteering_act(request: HttpRequest, what: str) -> HttpResponse:
    """Register a volunteer, publish an activity, add a partner unit or a reward, or exchange
    points at the counter."""
    user = signed_in(request)
    areas = policy.participation_areas_for(user)
    streets = {a.street_id or a.pk for a in areas}
    partners = PartnerUnit.objects.filter(street_id__in=streets)
    forms = {
        "volunteer": lambda: VolunteerForm(request.POST),
        "activity": lambda: ActivityForm(request.POST, areas=areas),
        "partner": lambda: PartnerForm(request.POST),
        "reward": lambda: RewardForm(request.POST, partners=partners),
        "exchange": lambda: CounterExchangeForm(
            request.POST, rewards=Reward.objects.filter(partner__in=partners)
        ),
    }
    if what not in forms:
        messages.error(request, "没有这个操作")
        return redirect("participation_volunteering")
    form = forms[what]()
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("participation_volunteering")
    data = form.cleaned_data
    try:
        if what == "volunteer":
            person = policy.person_for_id_number(user, data["id_number"])
            if not policy.can_run_volunteering(user, person.area):
                raise NotFound("该居民不在您的辖区范围内")
            services.volunteer_register(person=person, actor=user)
            messages.success(request, f"已注册志愿者{person.name}")
        elif what == "activity":
            activity = services.activity_create(actor=user, **data)
            return redirect("participation_activity", pk=activity.pk)
        elif what == "partner":
            street = next(iter(Area.objects.filter(pk__in=streets)), None)
            if street is None:
                raise NotFound("您的辖区不属于任何街道")
            services.partner_add(street=street, name=data["name"], actor=user)
        elif what == "reward":
            services.reward_add(actor=user, **data)
        else:
            person = policy.person_for_id_number(user, data["id_number"])
            volunteer = Volunteer.objects.filter(person=person).first()
            if volunteer is None:
                raise NotFound(f"{person.name}不是注册志愿者")
            exchange = services.reward_exchange(
                volunteer=volunteer, reward=data["reward"], channel="counter", actor=user
            )
            messages.success(request, f"{person.name}已兑换{exchange.reward.name}")
    except DomainError as exc:
        _refused(request, exc)
    return redirect("participation_volunteering")


def _activity_for(user: Any, pk: int) -> Activity:
    activity = policy.activities_visible_to(user).filter(pk=pk).first()
    if activity is None:
        raise NotFound("没有找到该活动,或您无权查看")
    return activity


@participation_page
@require_http_methods(["GET", "POST"])
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An activity's sign-ups; staff sign volunteers up (by ID number) and in on site."""
    user = signed_in(request)
    activity = _activity_for(user, pk)
    if request.method == "POST":
        try:
            if "signup" in request.POST:
                signup = get_object_or_404(
                    SignUp, pk=request.POST.get("signup") or 0, activity=activity
                )
                services.attendance_sign_in(signup=signup, actor=user)
            else:
                form = SignUpForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_first_error(form))
                person = policy.person_for_id_number(user, form.cleaned_data["id_number"])
                volunteer = Volunteer.objects.filter(person=person).first()
                if volunteer is None:
                    raise NotFound(f"{person.name}不是注册志愿者,请先注册")
                services.activity_sign_up(activity=activity, volunteer=volunteer)
        except DomainError as exc:
            _refused(request, exc)
        except ValueError:
            messages.error(request, "参数无效")
        return redirect("participation_activity", pk=pk)
    signups = activity.signups.select_related("volunteer__person")
    return render(
        request,
        "participation/activity.html",
        {"activity": activity, "signups": signups, "form": SignUpForm()},
    )


# Phone pages (no account) ------------------------------------------------------------------


def _public_not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/public/not_found.html", {"message": message}, status=404)


@require_http_methods(["GET", "POST"])
def public_propose(request: HttpRequest, code: str) -> HttpResponse:
    """/p/<code>/propose/: what the round's QR poster opens; a resident proposes a project."""
    try:
        area = policy.area_for_public_report(code)
    except NotFound as exc:
        return _public_not_found(request, exc.message)
    round_ = selectors.rounds_open_for(area).select_related("area").first()
    context: dict[str, Any] = {"area": area, "round": round_}
    if round_ is None:
        return render(request, "participation/public_propose.html", context)
    form = ProposalForm(request.POST or None)
    context["form"] = form
    if request.method != "POST":
        return render(request, "participation/public_propose.html", context)
    allowed = ratelimit.hit(
        scope="participation_proposal",
        key=ratelimit.client_address(request),
        limit=PROPOSAL_LIMIT,
        window_seconds=PROPOSAL_WINDOW_SECONDS,
    )
    if not allowed:
        context["limited"] = True
        return render(request, "participation/public_propose.html", context, status=429)
    if form.is_valid():
        try:
            proposal = services.proposal_submit(round_=round_, area=area, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("participation_public_proposal", token=proposal.tracking_token)
    return render(request, "participation/public_propose.html", context, status=400)


@require_GET
def public_proposal(request: HttpRequest, token: str) -> HttpResponse:
    """The proposer's own link: where their proposal stands, and why it was dropped."""
    proposal = Proposal.objects.select_related("round", "area").filter(tracking_token=token).first()
    if proposal is None:
        return _public_not_found(request, "没有找到该提议,请核对链接")
    project = Project.objects.filter(proposal=proposal).select_related("status").first()
    return render(
        request,
        "participation/public_proposal.html",
        {"proposal": proposal, "project": project, "round": proposal.round},
    )


@require_GET
def public_progress(request: HttpRequest, code: str) -> HttpResponse:
    """/p/<code>/progress/: the community's 民生实事 and how far each has come."""
    try:
        area = policy.area_for_public_report(code)
    except NotFound as exc:
        return _public_not_found(request, exc.message)
    projects = selectors.projects_of_area(area).prefetch_related(
        Prefetch(
            "updates",
            queryset=ProjectUpdate.objects.select_related("status").prefetch_related("photos"),
        )
    )
    return render(
        request, "participation/public_progress.html", {"area": area, "projects": projects}
    )


@require_GET
def public_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A progress photo: every project update is public, as the progress page is."""
    photo = UpdatePhoto.objects.filter(pk=pk).first()
    if photo is None:
        return _public_not_found(request, "没有找到该照片")
    return photo_response(photo.file, photo.content_type)


PUBLIC_QR_PAGES = {
    "propose": ("participation_public_propose", "民生实事征集"),
    "progress": ("participation_public_progress", "民生实事进展"),
}


@require_GET
def public_qr(request: HttpRequest, code: str, page: str) -> HttpResponse:
    """The QR code (SVG) of a place's proposal page or progress page, for posters."""
    try:
        area = policy.area_for_public_report(code)
    except NotFound as exc:
        return _public_not_found(request, exc.message)
    if page not in PUBLIC_QR_PAGES:
        return _public_not_found(request, "没有这个页面")
    name, title = PUBLIC_QR_PAGES[page]
    buffer = io.BytesIO()
    segno.make(_absolute(request, name, area.code), error="m").save(
        buffer, kind="svg", scale=10, border=2, title=f"{area.name} {title}"
    )
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _voter_context(voter: Voter, form: PicksForm | None = None) -> dict[str, Any]:
    round_ = voter.round
    voting = round_.stage == Stage.VOTING and round_.stage_open
    candidates = round_.proposals.filter(status=ProposalStatus.CANDIDATE)
    return {
        "voter": voter,
        "round": round_,
        "voting": voting,
        "ballot": Ballot.objects.filter(voter=voter).first(),
        "form": form or PicksForm(candidates=candidates),
        "to_evaluate": round_.projects.filter(evaluation_open=True).exclude(
            evaluations__voter=voter
        ),
        "verdicts": Verdict.choices,
        "result": selectors.published_result(round_) if round_.stage == Stage.PUBLISHED else [],
    }


@require_http_methods(["GET", "POST"])
def public_vote(request: HttpRequest, token: str) -> HttpResponse:
    """A council member's own voting page, from the link or QR handed to them at the meeting:
    the ballot while 票决 is open, and the evaluation of finished projects."""
    try:
        voter = policy.voter_for_token(token)
    except NotFound as exc:
        return _public_not_found(request, exc.message)
    if request.method != "POST":
        return render(request, "participation/public_vote.html", _voter_context(voter))
    if "project" in request.POST:
        project = Project.objects.filter(
            pk=request.POST.get("project") or 0, round=voter.round
        ).first()
        try:
            if project is None:
                raise NotFound("没有找到该项目")
            services.evaluation_give(
                project=project, voter=voter, verdict=request.POST.get("verdict", "")
            )
            messages.success(request, "已提交验单评价,谢谢")
        except DomainError as exc:
            _refused(request, exc)
        return redirect("participation_public_vote", token=token)
    form = PicksForm(
        request.POST, candidates=voter.round.proposals.filter(status=ProposalStatus.CANDIDATE)
    )
    if form.is_valid():
        try:
            services.ballot_cast(
                voter=voter, proposal_ids=[p.pk for p in form.cleaned_data["picks"]]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "投票成功,谢谢您")
            return redirect("participation_public_vote", token=token)
    voter = policy.voter_for_token(token)
    return render(
        request, "participation/public_vote.html", _voter_context(voter, form), status=400
    )


@require_http_methods(["GET", "POST"])
def public_volunteer(request: HttpRequest, token: str) -> HttpResponse:
    """A volunteer's own page: hours, points and their ledger; sign up; exchange on the phone."""
    try:
        volunteer = policy.volunteer_for_token(token)
    except NotFound as exc:
        return _public_not_found(request, exc.message)
    if request.method == "POST":
        try:
            if "reward" in request.POST:
                reward = (
                    selectors.rewards_for(volunteer)
                    .filter(pk=request.POST.get("reward") or 0)
                    .first()
                )
                if reward is None:
                    raise NotFound("该礼品已下架或兑完")
                services.reward_exchange(volunteer=volunteer, reward=reward, channel="phone")
                messages.success(request, f"已兑换{reward.name},请到{reward.partner.name}领取")
            else:
                activity = (
                    selectors.activities_open_for(volunteer, clock.now())
                    .filter(pk=request.POST.get("activity") or 0)
                    .first()
                )
                if activity is None:
                    raise NotFound("没有找到该活动")
                services.activity_sign_up(activity=activity, volunteer=volunteer)
                messages.success(request, f"已报名“{activity.title}”")
        except DomainError as exc:
            _refused(request, exc)
        except ValueError:
            messages.error(request, "参数无效")
        return redirect("participation_public_volunteer", token=token)
    context = {
        "volunteer": volunteer,
        "balance": selectors.points_balance(volunteer),
        "hours": selectors.volunteer_hours(volunteer),
        "entries": volunteer.points.order_by("-pk")[:30],
        "rewards": selectors.rewards_for(volunteer),
        "activities": selectors.activities_open_for(volunteer, clock.now())[:20],
        "signed_up": set(volunteer.signups.values_list("activity_id", flat=True)),
    }
    return render(request, "participation/public_volunteer.html", context)
