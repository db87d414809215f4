"""Writes for figures: baselines entered by hand for periods before the system was used."""

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Source
from shanzhi.errors import DomainError, PermissionDenied

from .measures import KPIS, PERCENT
from .models import Baseline
from .periods import Period


class BaselineError(DomainError):
    code = "invalid_baseline"


def baseline_enter(
    *,
    actor: User,
    area: Area,
    kpi: str,
    period: Period,
    value: Decimal | int | str,
    note: str,
    source: str = "",
) -> Baseline:
    """Record a figure counted before the system was used (e.g. last year's petition total)."""
    if not policy.can_enter_baseline(actor, area):
        raise PermissionDenied("无权为该辖区录入历史基数")
    if area.street_id is None:
        raise BaselineError("历史基数须录入到街道或其下的辖区")
    if kpi not in KPIS:
        raise BaselineError(f"没有名为“{kpi}”的指标")
    definition = KPIS[kpi]
    if source and source not in Source.values:
        raise BaselineError(f"来源渠道“{source}”无效")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BaselineError(f"“{value}”不是有效的数值") from None
    if not amount.is_finite() or amount < 0:
        raise BaselineError("数值须为不小于0的数")
    if definition.unit == PERCENT and amount > 100:
        raise BaselineError(f"“{definition.name}”是百分比,不能超过100")
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
                period_kind=period.kind,
                period_start=period.start,
                period_end=period.end,
                value=amount.quantize(Decimal("0.0001")),
                note=note.strip()[:200],
                entered_by=actor,
                entered_at=clock.now(),
            )
    except IntegrityError:
        raise BaselineError(
            f"{area.name}{period.label}的“{definition.name}”已录入,请勿重复录入"
        ) from None
