from django.db import migrations, models

# The registry list's keyset pages sort by registration date either way with nulls last. PostgreSQL indexes that
# order; SQLite refuses NULLS LAST in an index (it sorts the 100,000 rows in memory, fast enough), so these two
# are created on PostgreSQL only and are not in the model's state (a SQLite table rebuild would re-create them).
REGISTERED_INDEXES = (
    'CREATE INDEX IF NOT EXISTS "enterprise_registered_asc" ON "enterprises_enterprise" '
    '("registered_on" ASC NULLS LAST, "id")',
    'CREATE INDEX IF NOT EXISTS "enterprise_registered_desc" ON "enterprises_enterprise" '
    '("registered_on" DESC NULLS LAST, "id")',
)


def create_registered_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in REGISTERED_INDEXES:
            schema_editor.execute(sql)


def drop_registered_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in ("enterprise_registered_asc", "enterprise_registered_desc"):
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('enterprises', '0005_audit_subject_backfill'),
    ]

    operations = [
        migrations.RunPython(create_registered_indexes, drop_registered_indexes),
        migrations.AddIndex(
            model_name='qualification',
            index=models.Index(fields=['kind', 'enterprise'], name='qualification_kind_enterprise'),
        ),
    ]
