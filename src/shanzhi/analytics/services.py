"""Writes for figures: baselines entered by hand for periods before the system was used, and a
street's own copies of the ranking rules."""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.cases.models import CaseCategory, CaseType, Source
from shanzhi.errors import DomainError, PermissionDenied

from .measures import KPIS, LISTED_KINDS, MEASURES, PERCENT, Kpi
from .models import Baseline, BaselineAction, BaselineHistory, RankingRule, RankingWeight
from .periods import Period


class BaselineError(DomainError):
    code = "invalid_baseline"


def baseline_amount(definition: Kpi, value: Decimal | int | str) -> Decimal:
    """An entered value of `definition` read and checked (a number, not negative, a percent
    not over 100)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BaselineError(f"“{value}”不是有效的数值") from None
    if not amount.is_finite() or amount < 0:
        raise BaselineError("数值须为不小于0的数")
    if amount >= Decimal("1e12"):
        raise BaselineError("数值过大,请检查是否多填了位数")
    if definition.unit == PERCENT and amount > 100:
        raise BaselineError(f"“{definition.name}”是百分比,不能超过100")
    return amount.quantize(Decimal("0.0001"))


def baseline_enter(
    *,
    actor: User,
    area: Area,
    kpi: str,
    period: Period,
    value: Decimal | int | str,
    note: str,
    source: str = "",
    category: CaseCategory | None = None,
    case_type: CaseType | None = None,
) -> Baseline:
    """Record a figure counted before the system was used (e.g. last year's petition total),
    for the whole place or one channel, and for all matters or one category or case type."""
    if not policy.can_enter_baseline(actor, area):
        raise PermissionDenied("无权为该辖区录入历史基数")
    if area.street_id is None:
        raise BaselineError("历史基数须录入到街道或其下的辖区")
    if kpi not in KPIS:
        raise BaselineError(f"没有名为“{kpi}”的指标")
    definition = KPIS[kpi]
    if source and source not in Source.values:
        raise BaselineError(f"来源渠道“{source}”无效")
    if category is not None and case_type is not None:
        raise BaselineError("历史基数只能按类别或按事项之一录入,请只选一项")
    if (category is not None or case_type is not None) and not all(
        MEASURES[key].kind in LISTED_KINDS for key in definition.measures
    ):
        raise BaselineError(f"“{definition.name}”不按事项统计,不能按类别或事项录入")
    for matter in (category, case_type):
        if matter is not None and matter.street_id != area.street_id:
            raise BaselineError("所选类别或事项不属于该辖区所在的街道")
    amount = baseline_amount(definition, value)
    if period.end_at > clock.now():
        raise BaselineError("只能录入已经结束的期间的历史数据")
    if not note.strip():
        raise BaselineError("请说明数据来源,例如“2024年工作总结”")
    try:
        with transaction.atomic():
            return Baseline.objects.create(
                street_id=area.street_id,
                area=area,
                key=kpi,
                source=source,
                category=category,
                case_type=case_type,
                period_kind=period.kind,
                period_start=period.start,
                period_end=period.end,
                value=amount,
                note=note.strip()[:200],
                entered_by=actor,
                entered_at=clock.now(),
            )
    except IntegrityError:
        named = f"{category.name}类" if category else f"“{case_type.name}”" if case_type else ""
        raise BaselineError(
            f"{area.name}{period.label}{named}的“{definition.name}”已录入,请勿重复录入"
        ) from None


def _baseline_keep(
    baseline: Baseline, *, action: str, actor: User, reason: str, new_value: Decimal | None
) -> BaselineHistory:
    return BaselineHistory.objects.create(
        street_id=baseline.street_id,
        area_id=baseline.area_id,
        key=baseline.key,
        source=baseline.source,
        category_id=baseline.category_id,
        case_type_id=baseline.case_type_id,
        period_kind=baseline.period_kind,
        period_start=baseline.period_start,
        period_end=baseline.period_end,
        value=baseline.value,
        note=baseline.note,
        entered_by_id=baseline.entered_by_id,
        entered_at=baseline.entered_at,
        action=action,
        new_value=new_value,
        reason=reason,
        acted_by=actor,
        acted_at=clock.now(),
    )


def _baseline_locked(actor: User, baseline: Baseline, reason: str) -> tuple[Baseline, str]:
    if not policy.can_enter_baseline(actor, baseline.area):
        raise PermissionDenied("无权修改该辖区的历史基数")
    if not reason.strip():
        raise BaselineError("请说明更正或撤回的理由")
    current = Baseline.objects.select_for_update().filter(pk=baseline.pk).first()
    if current is None:
        raise BaselineError("该历史基数已被撤回,请刷新后查看")
    return current, reason.strip()[:200]


def baseline_correct(
    *,
    actor: User,
    baseline: Baseline,
    value: Decimal | int | str,
    note: str,
    reason: str,
) -> Baseline:
    """Replace an entered figure with a corrected one; what it was stays in the history."""
    checked = baseline_amount(KPIS[baseline.key], value)
    if not note.strip():
        raise BaselineError("请说明数据来源,例如“2024年工作总结”")
    with transaction.atomic():
        current, why = _baseline_locked(actor, baseline, reason)
        _baseline_keep(
            current,
            action=BaselineAction.CORRECTED,
            actor=actor,
            reason=why,
            new_value=checked,
        )
        current.value = checked
        current.note = note.strip()[:200]
        current.entered_by = actor
        current.entered_at = clock.now()
        current.save(update_fields=["value", "note", "entered_by", "entered_at"])
        return current


def baseline_withdraw(*, actor: User, baseline: Baseline, reason: str) -> BaselineHistory:
    """Take an entered figure out of use (同比 counts again, or shows nothing); the figure is
    kept in the history with who withdrew it and why."""
    with transaction.atomic():
        current, why = _baseline_locked(actor, baseline, reason)
        kept = _baseline_keep(
            current, action=BaselineAction.WITHDRAWN, actor=actor, reason=why, new_value=None
        )
        current.delete()
    return kept


@transaction.atomic
def ranking_rules_copy(*, street: Area, rules: Iterable[RankingRule]) -> list[RankingRule]:
    """Give a street its own copy of each rule, weights and all, for its administrators to tune."""
    copies = []
    for rule in rules:
        copy = RankingRule.objects.create(
            name=f"{rule.name}({street.name})"[:60],
            level=rule.level,
            street=street,
            description=rule.description,
        )
        RankingWeight.objects.bulk_create(
            RankingWeight(rule=copy, kpi=w.kpi, weight=w.weight, target=w.target, floor=w.floor)
            for w in rule.weights.all()
        )
        copies.append(copy)
    return copies
