"""The tags and privileges a street starts from; administrators tune them afterwards.

Kept as plain data so that the migration that seeds them and `registry_defaults_seed` (for
databases emptied since, such as a test's) read the same lists.
"""

# code, name, kind, visit interval in days (care tags only)
TAGS: list[tuple[str, str, str, int | None]] = [
    ("living_alone", "独居老人", "care", 7),
    ("empty_nest", "空巢老人", "care", 14),
    ("very_old", "高龄老人", "care", 30),
    ("disabled", "残疾人", "care", 30),
    ("subsistence", "低保", "care", 30),
    ("child_in_need", "困境儿童", "care", 14),
    ("community_correction", "社区矫正", "sensitive", None),
    ("resettlement", "安置帮教", "sensitive", None),
    ("key_person", "重点人员", "sensitive", None),
    ("mental_disorder", "严重精神障碍患者", "sensitive", None),
    ("party_member", "党员", "general", None),
    ("veteran", "退役军人", "general", None),
    ("volunteer", "志愿者", "general", None),
]

# Leaders answer for the people of their area; administrators keep the registry. Grid workers
# see masked numbers: they know their residents by name and house.
PRIVILEGES: list[tuple[str, str]] = [
    ("leader", "unmask"),
    ("administrator", "unmask"),
    ("leader", "sensitive_tags"),
    ("leader", "export_personal"),
    ("administrator", "export_personal"),
]
