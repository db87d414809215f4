import hashlib

from django.db import models

from shanzhi.accounts.models import User
from shanzhi.cases.models import Source


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A key for the REST and Open311 APIs. Only its hash is stored; the key is shown once.

    A token acts as its user; a token without a user (Open311 channels) only reports cases and
    attributes them to its channel. Every token expires, and is used only within its scopes.
    """

    name = models.CharField("名称", max_length=100)
    user = models.ForeignKey(
        User,
        verbose_name="代表人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    source = models.CharField("上报渠道", max_length=20, choices=Source.choices, default=Source.API)
    prefix = models.CharField("前缀", max_length=8, editable=False)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    scopes = models.JSONField("权限范围", default=list)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口密钥"
        verbose_name_plural = "接口密钥"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}({self.prefix}…)"
