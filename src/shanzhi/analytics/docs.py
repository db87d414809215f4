"""Every figure (指标) and what it counts, as Markdown, generated from `measures`: the text
`shanzhi figures` prints and docs/figures.md holds, kept current by a test."""

from .measures import ACTIONS, CASES, KPIS, MEASURES, Kpi

INTRO = """# 指标

每个指标只定义一次(`shanzhi/analytics/measures.py`),驾驶舱、比拼晾晒、工作总结、接口和事件列表
都通过同一条计算路径取数;任一数字都能点开它所统计的事件。本文件由
`shanzhi figures --write docs/figures.md` 生成,请勿手工修改。

计数规则:

- 事件按**受理**时刻计入期间(就地处置的按上报时刻);合并的重复件与不予受理的报告
  不计入受理量,另行统计。
- 专项流程以各自的步骤作为受理:安全隐患为“核实定级”,信访为“登记”,矛盾纠纷为
  “受理调解”,企业诉求为“受理交办”。
- “办结”指截至统计时刻已办结(重办件按最后一次办结);安全隐患的办结即复查合格销号,
  信访的办结即出具处理意见书,矛盾纠纷的办结即达成协议或终止调解。
- 指标总是针对一个范围(辖区及其下级、承办单位、事项类型或类别、来源渠道)和一个期间,
  “截至”某一时刻计算(默认为现在;已结束的期间为其结束时刻)。
- 工作时间不含周末和法定节假日,含调休上班日;每个工作日 9:00–12:00、13:30–17:30。
"""


def _formula(kpi: Kpi) -> str:
    numerator = " + ".join(MEASURES[key].name for key in kpi.numerator)
    if not kpi.denominator:
        return numerator
    denominator = " + ".join(MEASURES[key].name for key in kpi.denominator)
    return f"{numerator} ÷ {denominator}"


def _direction(kpi: Kpi) -> str:
    return {True: "越高越好", False: "越低越好", None: "—"}[kpi.higher_is_better]


def figures_markdown() -> str:
    lines = [
        INTRO,
        "## 指标",
        "",
        "| 键 | 指标 | 单位 | 计算 | 方向 | 说明 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kpi in KPIS.values():
        cells = [f"`{kpi.key}`", kpi.name, kpi.unit, _formula(kpi), _direction(kpi), kpi.definition]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## 统计量", "", "| 键 | 统计量 | 统计什么 | 取自 |", "| --- | --- | --- | --- |"]
    for measure in MEASURES.values():
        if measure.kind == CASES:
            source = "事件"
        elif measure.kind == ACTIONS:
            source = f"流转记录中的 `{measure.action}`(按动作时刻)"
        else:
            source = "登记库与走访、核查记录"
        cells = [f"`{measure.key}`", measure.name, measure.definition, source]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
