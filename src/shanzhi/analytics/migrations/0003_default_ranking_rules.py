"""The platform's default 比拼晾晒 rules, one per level, after common grid-governance assessment
schemes: closure and timeliness carry most of the weight, then residents' satisfaction, then the
discipline of the process (claiming in time, nothing overdue), then quality (no reopening)."""

from django.db import migrations

DEFAULTS = [
    (
        "网格考核(默认)",
        "grid",
        "办结率25、按期办结率20、满意率20、签收及时率10、超期数10(越少越好)、"
        "重办率5(越少越好)、网格自办率10(小事不出网格)",
        [
            ("resolution_rate", 25),
            ("on_time_rate", 20),
            ("satisfaction_rate", 20),
            ("claim_rate", 10),
            ("overdue", 10),
            ("reopen_rate", 5),
            ("on_spot_rate", 10),
        ],
    ),
    (
        "社区考核(默认)",
        "community",
        "办结率25、按期办结率20、满意率20、回访率10、网格自办率10、超期数10(越少越好)、"
        "重办率5(越少越好)",
        [
            ("resolution_rate", 25),
            ("on_time_rate", 20),
            ("satisfaction_rate", 20),
            ("callback_rate", 10),
            ("on_spot_rate", 10),
            ("overdue", 10),
            ("reopen_rate", 5),
        ],
    ),
    (
        "承办单位考核(默认)",
        "unit",
        "按期办结率25、签收及时率20、满意率20、办结率15、超期数10(越少越好)、退回率10(越少越好)",
        [
            ("on_time_rate", 25),
            ("claim_rate", 20),
            ("satisfaction_rate", 20),
            ("resolution_rate", 15),
            ("overdue", 10),
            ("return_rate", 10),
        ],
    ),
]


def seed(apps, schema_editor):
    RankingRule = apps.get_model("analytics", "RankingRule")
    RankingWeight = apps.get_model("analytics", "RankingWeight")
    for name, level, description, weights in DEFAULTS:
        if RankingRule.objects.filter(street__isnull=True, level=level).exists():
            continue
        rule = RankingRule.objects.create(name=name, level=level, description=description)
        RankingWeight.objects.bulk_create(
            RankingWeight(rule=rule, kpi=kpi, weight=weight) for kpi, weight in weights
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_rankings_and_baseline_history")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
