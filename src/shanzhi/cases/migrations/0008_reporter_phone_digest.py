from django.db import migrations, models


def digest_existing(apps, schema_editor):
    """Cases taken in before the digest existed are found by their phone too."""
    from shanzhi.cases.models import phone_digest

    Case = apps.get_model("cases", "Case")
    with_phone = Case.objects.exclude(reporter_phone="")
    for pk, phone in with_phone.values_list("pk", "reporter_phone").iterator():
        Case.objects.filter(pk=pk).update(reporter_phone_digest=phone_digest(phone))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_case_number_sequences"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="reporter_phone_digest",
            field=models.CharField(
                blank=True, db_index=True, max_length=64, verbose_name="联系电话摘要"
            ),
        ),
        migrations.RunPython(digest_existing, migrations.RunPython.noop),
    ]
