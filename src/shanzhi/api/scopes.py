"""What an API key may be used for, and which scope each request of the REST API needs.

A key never does more than its user may (the policy module still decides every request); its
scopes narrow it further, so that a key handed to a reporting system cannot also read the
registry. The scope of a request follows from its method and path, so that every operation,
including one added later, falls under one.
"""

import re

from django.db import models


class Scope(models.TextChoices):
    READ = "read", "查询(事件、事项、辖区、指标、登记库的掩码信息)"
    REPORT = "report", "上报事件"
    CASES = "cases", "办理事件(流转、关联)"
    REGISTRY = "registry", "维护登记库(新增、修改、走访)"
    PERSONAL = "personal", "查看个人信息原文(留痕)"


ALL_SCOPES = tuple(Scope.values)
# A key without a user is a reporting channel (Open311, the 12345 bridge): it only reports.
CHANNEL_SCOPES = (Scope.REPORT.value,)

_PERSONAL = re.compile(r"^/api/v1/(registry/[a-z-]+/[^/]+/reveal|cases/[^/]+/contact)/?$")
_REPORT = re.compile(r"^/api/v1/cases/?$")
_REGISTRY = re.compile(r"^/api/v1/registry/")


def scope_for(method: str, path: str) -> str:
    """The scope a request of the REST API needs."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return Scope.READ
    if _PERSONAL.match(path):
        return Scope.PERSONAL
    if _REPORT.match(path):
        return Scope.REPORT
    if _REGISTRY.match(path):
        return Scope.REGISTRY
    return Scope.CASES


def scopes_text(scopes: list[str]) -> str:
    return "、".join(Scope(scope).label.split("(")[0] for scope in scopes if scope in Scope.values)
