"""Keys expire and carry scopes. Keys issued before this keep working, with every scope their
kind allows, until SHANZHI_API_TOKEN_DAYS from now: time enough to issue narrower ones."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

ALL_SCOPES = ["read", "report", "cases", "registry", "personal"]


def existing_keys_expire(apps, schema_editor):
    ApiToken = apps.get_model("api", "ApiToken")
    expires = timezone.now() + timedelta(days=settings.SHANZHI_API_TOKEN_DAYS)
    ApiToken.objects.filter(user__isnull=False).update(expires_at=expires, scopes=ALL_SCOPES)
    ApiToken.objects.filter(user__isnull=True).update(expires_at=expires, scopes=["report"])


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="到期时间"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(default=list, verbose_name="权限范围"),
        ),
        migrations.RunPython(existing_keys_expire, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="到期时间"),
        ),
    ]
