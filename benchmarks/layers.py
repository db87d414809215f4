"""Where one request's time goes: each layer of the write path timed on its own.

A layer's time is exclusive: what runs inside another timed layer counts there, not twice. The
root layer (HTTP and authentication for a request, the call itself for a service) gets what is
left: middleware, routing, the key's lookup, parsing the body. Functions a version of the project
does not have are skipped, so the benchmarks run unchanged on earlier versions.
"""

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ROOT = "HTTP和认证"
# (layer, module, functions): patched at the module where their callers look them up.
TARGETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "权限(policy)",
        "shanzhi.policy",
        ("area_for", "area_for_public_report", "can_report", "can_view_case", "can_perform"),
    ),
    ("校验", "shanzhi.cases.services", ("check_photos", "extra_answers_check")),
    ("校验", "shanzhi.cases.engine", ("inputs_check",)),
    ("引擎", "shanzhi.cases.services", ("_create_case", "perform")),
    ("引擎", "shanzhi.cases.engine", ("perform",)),
    ("汇总维护", "shanzhi.cases.engine", ("rollup_case_refresh",)),
    ("通知", "shanzhi.cases.engine", ("notify_transition", "notifications_send")),
    ("响应序列化", "shanzhi.api.present", ("case_detail",)),
)
ORDER = (ROOT, *dict.fromkeys(layer for layer, _, _ in TARGETS))


class Layers:
    def __init__(self, root: str = ROOT) -> None:
        self.root = root
        self.totals: dict[str, float] = dict.fromkeys((root, *ORDER[1:]), 0.0)
        self.calls = 0
        self._stack: list[float] = []

    def timed(self, layer: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def inner(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            self._stack.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                inside = self._stack.pop()
                spent = time.perf_counter() - started
                self.totals[layer] += spent - inside
                if self._stack:
                    self._stack[-1] += spent

        return inner

    @contextmanager
    def patched(self) -> Iterator[None]:
        saved = []
        for layer, module_name, names in TARGETS:
            module = importlib.import_module(module_name)
            for name in names:
                original = getattr(module, name, None)
                if original is not None:
                    saved.append((module, name, original))
                    setattr(module, name, self.timed(layer, original))
        try:
            yield
        finally:
            for module, name, original in reversed(saved):
                setattr(module, name, original)

    def run(self, call: Callable[[], Any]) -> Any:
        """One request (or service call), its layers timed."""
        self.calls += 1
        return self.timed(self.root, call)()

    def print(self, title: str) -> None:
        total = sum(self.totals.values())
        print(f"\n{title}:每次平均 {total / max(self.calls, 1) * 1000:.2f} ms({self.calls} 次)")
        for layer in (self.root, *ORDER[1:]):
            spent = self.totals[layer]
            share = spent / total if total else 0
            print(f"  {layer:<12} {spent / max(self.calls, 1) * 1000:7.2f} ms {share:6.1%}")
