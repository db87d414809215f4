"""Accounts to 等保 level 3: password age and forced change, sign-out everywhere, sign-in locks,
the second factor and its recovery codes, and the security log, append-only on PostgreSQL.

The trigger reuses the function the action log's migration created (cases 0002).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import shanzhi.protection

POSTGRES_UP = """
CREATE TRIGGER accounts_securityevent_append_only
    BEFORE UPDATE OR DELETE ON accounts_securityevent
    FOR EACH ROW EXECUTE FUNCTION shanzhi_refuse_change();
"""
POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS accounts_securityevent_append_only ON accounts_securityevent;"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("areas", "0001_initial"),
        ("cases", "0002_action_log_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="由他人设置或重置的密码,本人登录后须先修改。",
                verbose_name="下次登录须修改密码",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="密码设置时间"
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="session_epoch",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="会话代数"),
        ),
        migrations.CreateModel(
            name="RecoveryCodeDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "恢复码",
                "verbose_name_plural": "恢复码",
            },
        ),
        migrations.CreateModel(
            name="SignInThrottle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("account", "账号"), ("address", "来源地址")],
                        max_length=10,
                        verbose_name="类别",
                    ),
                ),
                ("key", models.CharField(max_length=150, verbose_name="账号或地址")),
                ("failures", models.PositiveIntegerField(default=0, verbose_name="窗口内失败次数")),
                (
                    "window_started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="计数开始"),
                ),
                ("locks", models.PositiveIntegerField(default=0, verbose_name="连续锁定次数")),
                (
                    "locked_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="锁定至"),
                ),
                ("lock_end_logged", models.BooleanField(default=False, verbose_name="解除已记录")),
            ],
            options={
                "verbose_name": "登录失败计数",
                "verbose_name_plural": "登录失败计数",
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "key"), name="signin_throttle_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="TotpDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                ("secret", shanzhi.protection.SealedTextField(verbose_name="密钥")),
                ("last_t", models.BigIntegerField(default=-1)),
                ("drift", models.SmallIntegerField(default=0)),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "动态口令设备",
                "verbose_name_plural": "动态口令设备",
            },
        ),
        migrations.CreateModel(
            name="RecoveryCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="使用时间")),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="codes",
                        to="accounts.recoverycodedevice",
                    ),
                ),
            ],
            options={
                "verbose_name": "恢复码",
                "verbose_name_plural": "恢复码",
                "indexes": [models.Index(fields=["device", "digest"], name="recovery_code_lookup")],
            },
        ),
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="时间"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("sign_in", "登录"),
                            ("sign_in_failed", "登录失败"),
                            ("locked", "登录锁定"),
                            ("unlocked", "解除锁定"),
                            ("sign_out", "退出登录"),
                            ("session_expired", "会话超时"),
                            ("password_changed", "修改密码"),
                            ("password_reset", "重置密码"),
                            ("otp_enrolled", "绑定动态口令"),
                            ("otp_verified", "动态口令验证"),
                            ("otp_failed", "动态口令错误"),
                            ("recovery_code_used", "使用恢复码"),
                            ("recovery_codes_issued", "生成恢复码"),
                            ("otp_removed", "解除动态口令"),
                            ("user_created", "新增人员"),
                            ("user_deactivated", "停用账号"),
                            ("user_activated", "启用账号"),
                            ("grant_added", "授予角色"),
                            ("grant_revoked", "撤销角色"),
                            ("token_issued", "签发接口密钥"),
                            ("token_used", "使用接口密钥"),
                            ("token_refused", "接口密钥被拒"),
                            ("token_revoked", "吊销接口密钥"),
                        ],
                        max_length=30,
                        verbose_name="事件",
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150, verbose_name="用户名")),
                ("address", models.CharField(blank=True, max_length=45, verbose_name="来源地址")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="说明")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        help_text="为他人操作时(授权、重置密码、解锁)是操作的管理员;空为本人或系统。",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="操作人",
                    ),
                ),
                (
                    "area",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="所属辖区",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="账号",
                    ),
                ),
            ],
            options={
                "verbose_name": "安全日志",
                "verbose_name_plural": "安全日志",
                "ordering": ["-at", "-pk"],
                "indexes": [
                    models.Index(fields=["user", "at"], name="secevent_user_at"),
                    models.Index(fields=["kind", "at"], name="secevent_kind_at"),
                ],
            },
        ),
        migrations.RunPython(install, remove),
    ]
