"""No double booking, guaranteed by PostgreSQL: an exclusion constraint over the instrument and the buffered
period [blocked_from, blocked_until) of the bookings that hold their slot (pending, confirmed). On SQLite this
migration does nothing: there the write transactions are serialized (settings: transaction_mode IMMEDIATE) and
the booking service checks for overlaps inside its transaction."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE instruments_booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (
    instrument_id WITH =,
    tstzrange(blocked_from, blocked_until, '[)') WITH &&
) WHERE (status IN ('pending', 'confirmed'));
"""
DROP = "ALTER TABLE instruments_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("instruments", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
