"""No two bookings of one room that hold it (pending or approved) overlap in time.

PostgreSQL: an exclusion constraint over (room, [starts_at, ends_at)) with btree_gist, so the
database itself refuses the second of two concurrent bookings (SQLSTATE 23P01). SQLite cannot parse
EXCLUDE: a trigger before INSERT and UPDATE raises instead; SQLite runs one writer at a time, so
the trigger sees every committed booking. meetings.booking turns either refusal into a sentence.
Half-open ranges: a meeting ending at 10:00 and one starting at 10:00 do not overlap.
"""

from django.db import migrations

CONSTRAINT = "meetings_booking_no_overlap"

PG_FORWARD = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE meetings_booking ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status IN ('pending', 'approved'));
"""
PG_BACKWARD = f"ALTER TABLE meetings_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT};"

_SQLITE_CHECK = """
    WHEN NEW.status IN ('pending', 'approved') AND EXISTS (
        SELECT 1 FROM meetings_booking b
        WHERE b.room_id = NEW.room_id AND b.id IS NOT NEW.id
          AND b.status IN ('pending', 'approved')
          AND julianday(b.starts_at) < julianday(NEW.ends_at)
          AND julianday(NEW.starts_at) < julianday(b.ends_at))
    BEGIN SELECT RAISE(ABORT, '{name}'); END
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER {CONSTRAINT}_insert BEFORE INSERT ON meetings_booking"
    + _SQLITE_CHECK.format(name=CONSTRAINT),
    f"CREATE TRIGGER {CONSTRAINT}_update BEFORE UPDATE OF room_id, starts_at, ends_at, status ON meetings_booking"
    + _SQLITE_CHECK.format(name=CONSTRAINT),
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {CONSTRAINT}_insert",
    f"DROP TRIGGER IF EXISTS {CONSTRAINT}_update",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_core")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
