from django.db import migrations, models


def registry_version(apps, schema_editor):
    # The row the audited writes bump (twincity.core.caching.REGISTRY): present from the start, so the first
    # page already caches.
    apps.get_model("core", "CacheVersion").objects.get_or_create(name="registry")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_worker_heartbeat_schedule_run"),
    ]

    operations = [
        migrations.CreateModel(
            name="CacheVersion",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(registry_version, migrations.RunPython.noop),
    ]
