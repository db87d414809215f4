"""Every flow as Markdown tables (states, steps, who, inputs, clocks, papers), generated from the
declarations: `shanzhi flows` prints it and docs/flows.md is it, kept current by a test."""

from collections.abc import Iterable

from . import FLOWS
from .spec import (
    ACTOR_LABELS,
    AUDIENCE_LABELS,
    INPUT_KIND_LABELS,
    KIND_LABELS,
    MARKS,
    ClockSpec,
    Flow,
    Input,
    TransitionSpec,
)

INTRO = """# 流程

善治中的每一件事都是一个**事件**,按一个**流程**办理。流程是声明出来的数据:它的状态、步骤(从哪个
状态到哪个状态、谁可以做、需要填写什么、对时限做什么、通知谁)、时限和文书。同一个引擎执行所有
流程;事件页面的操作面板和表单、REST 接口每个动作的请求格式、通知、居民看到的进度、Open311 状态、
受理台和待办的队列、时限巡检以及本文档,都由这些声明生成。

事项类型(事项清单)指定它的流程。上报时已确定类型的事件按该类型的流程建立;尚未确定类型的上报按
通用流程建立,受理时选定的类型若属于专项流程,事件即转入该流程,从其第一步办起。事件一经建立,
始终按它的流程办理,事项清单以后改动也不影响它。

期限按工作日、工作小时、自然日或小时计算。按日计算的期限,最后一日为法定节假日的,顺延至节假日后
的第一个工作日;工作日按国家法定节假日和调休安排计算。

本文件由 `shanzhi flows --write docs/flows.md` 生成,请勿手工修改。
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(row) for row in rows)]


def _input(spec: Input) -> str:
    text = f"{spec.label}({INPUT_KIND_LABELS[spec.kind]}"
    if spec.choices:
        text += ":" + "/".join(label for _, label in spec.choices)
    if spec.max_items:
        text += f",最多{spec.max_items}项"
    text += ")" if spec.required else ",可不填)"
    if spec.keep:
        text += "〔记入事件〕"
    return text


def _clocks(flow: Flow, transition: TransitionSpec) -> str:
    parts = []
    for op in transition.clocks:
        label = flow.clock_by_name[op.clock].label
        text = f"{op.label}“{label}”"
        if op.due:
            due = transition.input(op.due)
            text += f"(期限:{due.label if due else '申请的日期'})"
        if op.since:
            since = transition.input(op.since)
            text += f"(自{since.label if since else op.since}起算)"
        parts.append(text)
    return ";".join(parts) or "—"


def _who(kinds: Iterable[str]) -> str:
    return "、".join(ACTOR_LABELS[kind] for kind in sorted(kinds))


def _transition(flow: Flow, t: TransitionSpec) -> list[str]:
    target = flow.state_label(t.target) if t.target else "不变"
    for branch in t.branches:
        target += f";{branch.label}则为{flow.state_label(branch.to)}"
    notes = [t.summary.rstrip("。")] if t.summary else []
    if t.guard is not None:
        notes.append(f"条件:{t.guard.label}")
    if t.marks:
        notes.append("记录" + "、".join(MARKS[mark] for mark in t.marks))
    if t.then is not None:
        notes.append(t.then.label)
    if t.public is not None:
        notes.append(f"居民看到“{t.public}”")
    tell = ""
    if t.tell is not None:
        tell = f"{'、'.join(AUDIENCE_LABELS[w] for w in t.tell.who)}:“{t.tell.verb}”"
    return [
        f"`{t.action}`",
        t.label,
        f"{'、'.join(flow.state_label(s) for s in t.sources)} → {target}",
        _who(t.who),
        ";".join(_input(spec) for spec in t.inputs) or "—",
        _clocks(flow, t),
        tell or "—",
        ";".join(notes) or "—",
    ]


def _clock(clock: ClockSpec) -> list[str]:
    mirror = {"handle": "是(办理时限)", "claim": "是(签收时限)"}.get(clock.mirror, "否")
    expiry = "—"
    if clock.expiry is not None:
        expiry = f"系统执行 `{clock.expiry.action}`"
    remind = "、".join(AUDIENCE_LABELS[who] for who in clock.remind) or "—"
    return [f"`{clock.name}`", clock.label, clock.length_label, mirror, remind, expiry, clock.basis]


def flow_markdown(flow: Flow) -> str:
    lines = [f"## {flow.label}(`{flow.key}`)", "", flow.summary, ""]
    if flow.basis:
        lines += [f"依据:{flow.basis}", ""]
    lines += ["### 状态", ""]
    lines += _table(
        ["状态", "名称", "性质", "居民看到", "计时", "等待谁(队列)"],
        [
            [
                f"`{state.key}`",
                state.label,
                KIND_LABELS[state.kind],
                state.public_label,
                "、".join(flow.clock_by_name[name].label for name in state.clocks) or "—",
                "、".join(f"{ACTOR_LABELS[w.actor]}({w.queue.label})" for w in state.waits) or "—",
            ]
            for state in flow.states
        ],
    )
    lines += ["", "### 步骤", ""]
    lines += _table(
        ["动作", "名称", "从 → 到", "谁可以", "需要填写", "时限", "通知", "说明"],
        [_transition(flow, t) for t in flow.transitions],
    )
    if flow.clocks:
        lines += ["", "### 时限", ""]
        lines += _table(
            ["时限", "名称", "长度", "作为事件的时限显示", "临期提醒", "到期后", "依据"],
            [_clock(clock) for clock in flow.clocks],
        )
    if flow.documents:
        lines += ["", "### 文书", ""]
        lines += _table(
            ["文书", "出具于", "下载"],
            [
                [
                    document.title,
                    flow.transition_by_action[document.after].label,
                    f"`/cases/<编号>/documents/{document.key}.docx`",
                ]
                for document in flow.documents
            ],
        )
    return "\n".join(lines) + "\n"


def flows_markdown(keys: Iterable[str] | None = None) -> str:
    """The whole document, or the named flows only."""
    chosen = [FLOWS[key] for key in keys] if keys else list(FLOWS.values())
    parts = [INTRO] if not keys else []
    parts += [flow_markdown(flow) for flow in chosen]
    return "\n".join(parts)
