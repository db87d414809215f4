"""The default status catalogue of 民生实事 projects: (name, default progress %, completes)."""

DEFAULT_STATUSES = (
    ("未启动", 0, False),
    ("前期准备", 10, False),
    ("方案审批", 20, False),
    ("施工实施", 50, False),
    ("基本完成", 90, False),
    ("已完成", 100, True),
)
