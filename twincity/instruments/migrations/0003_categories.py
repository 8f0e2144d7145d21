"""Load the first subset of the national instrument classification (twincity.instruments.classification)."""

from django.db import migrations

from twincity.instruments.classification import CLASSES, SUBCLASSES


def load(apps, schema_editor):
    Category = apps.get_model("instruments", "InstrumentCategory")
    parents = {}
    for code, zh, en in CLASSES:
        parents[code], _ = Category.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en})
    for code, zh, en in SUBCLASSES:
        Category.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en,
                                                               "parent": parents[code[:2]]})


class Migration(migrations.Migration):
    dependencies = [("instruments", "0002_booking_no_overlap")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
