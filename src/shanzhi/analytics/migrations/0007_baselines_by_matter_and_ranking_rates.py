"""Baselines by category or case type; the platform's default ranking rules on rates.

The default rules (0003) added 超期数 as a raw count, which favours small communities: it
becomes 每千件超期数. 首次满意率 stands beside 满意率, taking 5 of its 20 points. Rules an
administrator has changed since they were seeded are left as they are.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OLD = {
    "grid": {
        "resolution_rate": 25,
        "on_time_rate": 20,
        "satisfaction_rate": 20,
        "claim_rate": 10,
        "overdue": 10,
        "reopen_rate": 5,
        "on_spot_rate": 10,
    },
    "community": {
        "resolution_rate": 25,
        "on_time_rate": 20,
        "satisfaction_rate": 20,
        "callback_rate": 10,
        "on_spot_rate": 10,
        "overdue": 10,
        "reopen_rate": 5,
    },
    "unit": {
        "on_time_rate": 25,
        "claim_rate": 20,
        "satisfaction_rate": 20,
        "resolution_rate": 15,
        "overdue": 10,
        "return_rate": 10,
    },
}
OLD_DESCRIPTIONS = {
    "grid": "办结率25、按期办结率20、满意率20、签收及时率10、超期数10(越少越好)、"
    "重办率5(越少越好)、网格自办率10(小事不出网格)",
    "community": "办结率25、按期办结率20、满意率20、回访率10、网格自办率10、超期数10(越少越好)、"
    "重办率5(越少越好)",
    "unit": "按期办结率25、签收及时率20、满意率20、办结率15、超期数10(越少越好)、退回率10(越少越好)",
}
NEW_DESCRIPTIONS = {
    "grid": "办结率25、按期办结率20、满意率15、首次满意率5、签收及时率10、每千件超期数10(越少越好)、"
    "重办率5(越少越好)、网格自办率10(小事不出网格);各项按排名范围的平均值与标准差折算",
    "community": "办结率25、按期办结率20、满意率15、首次满意率5、回访率10、网格自办率10、"
    "每千件超期数10(越少越好)、重办率5(越少越好);各项按排名范围的平均值与标准差折算",
    "unit": "按期办结率25、签收及时率20、满意率15、首次满意率5、办结率15、每千件超期数10(越少越好)、"
    "退回率10(越少越好);各项按排名范围的平均值与标准差折算",
}


def _new(old):
    new = {("overdue_per_thousand" if k == "overdue" else k): w for k, w in old.items()}
    new["satisfaction_rate"] = 15
    new["first_satisfaction_rate"] = 5
    return new


def _swap(apps, before, after, descriptions):
    RankingRule = apps.get_model("analytics", "RankingRule")
    RankingWeight = apps.get_model("analytics", "RankingWeight")
    for rule in RankingRule.objects.filter(street__isnull=True, level__in=list(OLD)):
        weights = list(rule.weights.all())
        standing = {w.kpi: w.weight for w in weights}
        untouched = all(w.target is None and w.floor is None for w in weights)
        if standing != before[rule.level] or not untouched:
            continue
        rule.weights.all().delete()
        RankingWeight.objects.bulk_create(
            RankingWeight(rule=rule, kpi=kpi, weight=weight)
            for kpi, weight in after[rule.level].items()
        )
        rule.description = descriptions[rule.level]
        rule.save(update_fields=["description"])


def rates_by_default(apps, schema_editor):
    _swap(apps, OLD, {level: _new(old) for level, old in OLD.items()}, NEW_DESCRIPTIONS)


def raw_counts_again(apps, schema_editor):
    _swap(apps, {level: _new(old) for level, old in OLD.items()}, OLD, OLD_DESCRIPTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_source_labels"),
        ("areas", "0001_initial"),
        ("cases", "0006_source_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rates_by_default, raw_counts_again),
        migrations.RemoveConstraint(
            model_name="baseline",
            name="baseline_once",
        ),
        migrations.AddField(
            model_name="baseline",
            name="case_type",
            field=models.ForeignKey(
                blank=True,
                help_text="为空表示全部事项",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.casetype",
                verbose_name="事项",
            ),
        ),
        migrations.AddField(
            model_name="baseline",
            name="category",
            field=models.ForeignKey(
                blank=True,
                help_text="为空表示全部类别",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.casecategory",
                verbose_name="事项类别",
            ),
        ),
        migrations.AddField(
            model_name="baselinehistory",
            name="case_type",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.casetype",
                verbose_name="事项",
            ),
        ),
        migrations.AddField(
            model_name="baselinehistory",
            name="category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.casecategory",
                verbose_name="事项类别",
            ),
        ),
        migrations.AddConstraint(
            model_name="baseline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("case_type__isnull", True), ("category__isnull", True)),
                fields=("area", "key", "source", "period_start", "period_end"),
                name="baseline_once",
                violation_error_message="该辖区该期间的这项指标已录入",
            ),
        ),
        migrations.AddConstraint(
            model_name="baseline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("category__isnull", False)),
                fields=("area", "key", "source", "category", "period_start", "period_end"),
                name="baseline_once_category",
                violation_error_message="该辖区该期间该类别的这项指标已录入",
            ),
        ),
        migrations.AddConstraint(
            model_name="baseline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("case_type__isnull", False)),
                fields=("area", "key", "source", "case_type", "period_start", "period_end"),
                name="baseline_once_case_type",
                violation_error_message="该辖区该期间该事项的这项指标已录入",
            ),
        ),
        migrations.AddConstraint(
            model_name="baseline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("category__isnull", True), ("case_type__isnull", True), _connector="OR"
                ),
                name="baseline_category_or_type",
                violation_error_message="历史基数只能按类别或按事项之一录入",
            ),
        ),
    ]
