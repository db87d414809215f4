from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from shanzhi import policy
from shanzhi.admin_site import ScopedAdmin, acting_user, admin_site
from shanzhi.errors import DomainError

from .models import ApiToken
from .scopes import scopes_text
from .tokens import api_token_revoke


@admin.register(ApiToken, site=admin_site)
class ApiTokenAdmin(ScopedAdmin):
    """Keys are issued by `shanzhi apitoken create` (the key is shown once, there); here they
    are watched and revoked."""

    list_display = [
        "prefix",
        "name",
        "user",
        "source",
        "scope_labels",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["source"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]

    @admin.display(description="权限范围")
    def scope_labels(self, token: ApiToken) -> str:
        return scopes_text(token.scopes)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return policy.api_tokens_visible_to(request.user).select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="吊销所选密钥")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = acting_user(request)
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            if not policy.can_revoke_api_token(actor, token):
                self.message_user(request, f"{token}:不在您管理范围内", messages.ERROR)
                continue
            try:
                api_token_revoke(token=token, actor=actor)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{token}:{exc.message}", messages.ERROR)
        self.message_user(request, f"已吊销 {done} 个密钥", messages.SUCCESS)
