"""Append-only audit log, enforced by the database.

UPDATE is refused except the one-time fill of chain_seq/prev_hash/row_hash by the chaining job on a
row whose row_hash is still empty (no other column may change); DELETE is always refused; INSERT
must be unchained (only the chaining job writes hashes).

PostgreSQL: one row-level trigger. TRUNCATE is not a row operation and stays possible for the
database owner (the test runner's flush uses it); an owner can drop triggers anyway — the hash chain,
not the trigger, is what proves the log intact.

SQLite: three triggers. Django's flush (the test runner between transactional tests) empties tables
with DELETE, so the DELETE trigger asks the function officeapp_audit_flush_allowed(), which
officeapp.audit.apps registers on every connection Django opens and which answers 1 only inside the
`flush` management command. A client without that function (the sqlite3 shell) is refused.
Caution: Django's SQLite schema editor rebuilds a table for most AlterField operations, which drops
its triggers; a later migration that alters AuditEvent must run this migration's SQL again.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_auditevent is append-only: DELETE refused (id %)', OLD.id;
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.row_hash <> '' OR NEW.prev_hash <> '' OR NEW.chain_seq IS NOT NULL THEN
            RAISE EXCEPTION 'audit_auditevent: rows are inserted unchained';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.row_hash = '' AND NEW.row_hash <> '' AND NEW.prev_hash <> '' AND NEW.chain_seq IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor_id, NEW.actor_label, NEW.client_address, NEW.action,
            NEW.object_type, NEW.object_id, NEW.outcome, NEW.details, NEW.chain)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor_id, OLD.actor_label, OLD.client_address, OLD.action,
            OLD.object_type, OLD.object_id, OLD.outcome, OLD.details, OLD.chain) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: UPDATE refused (id %)', OLD.id;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT officeapp_audit_flush_allowed()
    BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE refused'); END
    """,
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    WHEN NOT (OLD.row_hash = '' AND NEW.row_hash <> '' AND NEW.prev_hash <> '' AND NEW.chain_seq IS NOT NULL
              AND NEW.id IS OLD.id AND NEW.occurred_at IS OLD.occurred_at AND NEW.actor_id IS OLD.actor_id
              AND NEW.actor_label IS OLD.actor_label AND NEW.client_address IS OLD.client_address
              AND NEW.action IS OLD.action AND NEW.object_type IS OLD.object_type
              AND NEW.object_id IS OLD.object_id AND NEW.outcome IS OLD.outcome
              AND NEW.details IS OLD.details AND NEW.chain IS OLD.chain)
    BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER audit_event_unchained_insert BEFORE INSERT ON audit_auditevent
    WHEN NEW.row_hash <> '' OR NEW.prev_hash <> '' OR NEW.chain_seq IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'audit_auditevent: rows are inserted unchained'); END
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_unchained_insert",
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

    dependencies = [
        ("audit", "0003_chain_head"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
