"""The database itself keeps the audit log append-only (PostgreSQL and SQLite triggers)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from officeapp.audit.chain import chain_pending, triggers_installed
from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record


def _refused(sql: str, params: list[Any]) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return "audit_auditevent" in str(exc)
    return False


@pytest.fixture
def event(db: Any) -> AuditEvent:
    event = record("test.trigger", details={"kind": "probe"})
    chain_pending(settle_seconds=0)
    event.refresh_from_db()
    return event


def test_the_triggers_are_installed(db: Any) -> None:
    assert triggers_installed()


def test_update_of_a_chained_row_is_refused(event: AuditEvent) -> None:
    assert _refused("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.forged", event.pk])
    assert _refused("UPDATE audit_auditevent SET row_hash = %s WHERE id = %s", ["f" * 64, event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="denied")
    event.refresh_from_db()
    assert (event.action, event.outcome) == ("test.trigger", "success")


def test_delete_is_refused(event: AuditEvent) -> None:
    assert _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_an_unchained_row_may_only_receive_its_hashes(db: Any) -> None:
    event = record("test.unchained")
    # changing content while filling in hashes is refused …
    assert _refused(
        "UPDATE audit_auditevent SET action = %s, chain_seq = 1, prev_hash = %s, row_hash = %s WHERE id = %s",
        ["test.forged", "0" * 64, "a" * 64, event.pk],
    )
    # … so is changing content alone, or deleting it before it is chained
    assert _refused("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"x": 1}', event.pk])
    assert _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    # the chaining job's fill goes through
    assert chain_pending(settle_seconds=0) == 1


def test_a_row_cannot_be_inserted_already_chained(db: Any) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.create(action="test.forged", chain_seq=1, prev_hash="0" * 64, row_hash="a" * 64)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL trigger; CI runs PostgreSQL")
def test_postgres_trigger_refuses_update_and_delete_with_its_message(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_still_empties_the_log() -> None:
    # Transactional tests (live server, sockets) are torn down by `flush`; the SQLite DELETE trigger
    # lets exactly that command through, and on PostgreSQL flush uses TRUNCATE.
    record("test.flush")
    chain_pending(settle_seconds=0)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
