"""Store the engine's built-in standards as the first StandardVersion rows.

Later built-ins are added by services.standards_builtin_sync() (run_scoring and the seed call it). A stored
version is never edited, so this only inserts what is missing.
"""

import datetime as dt

from django.db import migrations


def store_builtin(apps, schema_editor):
    import points_engine

    StandardVersion = apps.get_model("points", "StandardVersion")
    existing = set(StandardVersion.objects.values_list("standard_id", "version"))
    for standard in points_engine.list_builtin():
        if (standard.id, standard.version) in existing:
            continue
        StandardVersion.objects.create(
            standard_id=standard.id,
            version=standard.version,
            name_zh=standard.name_zh[:100],
            name_en=standard.name_en[:200],
            region=standard.region[:32],
            effective_from=standard.effective_from,
            provisional=standard.provisional,
            definition=standard.to_dict(),
            note="built-in",
            created_at=dt.datetime.now(dt.UTC),
        )


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(store_builtin, migrations.RunPython.noop)]
