# 2 of 3: each stored result's facts move to the snapshot of its enterprise and run date (results with the
# very same facts share one).

import hashlib
import json

from django.db import migrations


def fill(apps, schema_editor):
    ScoreResult = apps.get_model("points", "ScoreResult")
    FactsSnapshot = apps.get_model("points", "FactsSnapshot")
    known: dict[tuple, int] = {}
    last = 0
    while True:
        chunk = list(ScoreResult.objects.filter(pk__gt=last, snapshot__isnull=True).order_by("pk")
                     .values_list("pk", "enterprise_id", "run__evaluation_date", "facts")[:5000])
        if not chunk:
            break
        last = chunk[-1][0]
        keys = []
        new: dict[tuple, dict] = {}
        for _pk, enterprise_id, evaluation_date, facts in chunk:
            text = json.dumps(facts, ensure_ascii=False, separators=(",", ":"))
            key = (enterprise_id, evaluation_date, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
            keys.append(key)
            if key not in known:
                new.setdefault(key, facts)
        created = FactsSnapshot.objects.bulk_create([
            FactsSnapshot(enterprise_id=key[0], evaluation_date=key[1], digest=key[2], facts=facts)
            for key, facts in new.items()
        ])
        known.update((key, snapshot.pk) for key, snapshot in zip(new, created, strict=True))
        ScoreResult.objects.bulk_update(
            [ScoreResult(pk=row[0], snapshot_id=known[key]) for row, key in zip(chunk, keys, strict=True)],
            ["snapshot"], batch_size=1000)


def unfill(apps, schema_editor):
    ScoreResult = apps.get_model("points", "ScoreResult")
    for result in ScoreResult.objects.select_related("snapshot").iterator(chunk_size=2000):
        ScoreResult.objects.filter(pk=result.pk).update(facts=result.snapshot.facts)


class Migration(migrations.Migration):

    dependencies = [
        ('points', '0005_facts_snapshot'),
    ]

    operations = [
        migrations.RunPython(fill, unfill),
    ]
