"""record() and record_view(): written with the change, by whom and from where, ids not text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from django.test import RequestFactory

from officeapp.audit.chain import chain_pending
from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record, record_view

# Keys whose values would be text a user wrote, or a secret: none may appear in any event's details.
TEXT_KEYS = {
    "body",
    "text",
    "content",
    "message",
    "title",
    "subject",
    "comment",
    "opinion",
    "password",
    "token",
    "vote",
    "choice",
    "filename",
}


def test_an_event_rolls_back_with_the_change_it_records(db: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.rolled_back")
        raise RuntimeError("the service failed after writing")
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()


def test_record_view_writes_who_viewed_what_from_where(cast: Any) -> None:
    request = RequestFactory().get("/files/7/")
    request.user = cast.drafter
    request.client_address = "10.20.30.40"  # set by ClientAddressMiddleware

    event = record_view(request, cast.general_dept, action="files.blob.download", details={"blob": 7})

    event.refresh_from_db()
    assert (event.action, event.actor, event.actor_label) == ("files.blob.download", cast.drafter, "林小梅")
    assert (event.object_type, event.object_id) == ("org.department", str(cast.general_dept.pk))
    assert event.client_address == "10.20.30.40"
    assert event.chain == f"agency:{cast.gov_office.pk}"
    assert event.details == {"blob": 7}
    assert event.row_hash == ""  # chained later by the worker job


def test_a_view_is_recorded_as_a_view_by_default(cast: Any) -> None:
    request = RequestFactory().get("/")
    request.user = cast.leader
    assert record_view(request, cast.general_dept).action == "file.view"


def test_an_anonymous_actor_is_recorded_without_a_user(db: Any) -> None:
    event = record(
        "accounts.sign_in.failed", outcome="failed", actor_label="unknown-user", client_address="203.0.113.9"
    )
    assert event.actor is None and event.chain == "platform" and event.outcome == "failed"


def test_details_hold_ids_and_kinds_never_text(cast: Any, sign_in_verified: Any) -> None:
    # given the org events of the cast and an export of everything (whose rows contain names)
    record("doc.draft.create", actor=cast.drafter, object_type="documents.officialdocument", object_id=1)
    client = sign_in_verified(cast.audit_admin)
    response = client.post("/audit/export/", {"format": "csv"})
    assert response.status_code == 200
    chain_pending(settle_seconds=0)

    # then no event's details carry a text-like key, the cast's password, or exported content
    for event in AuditEvent.objects.all():
        flat = json.dumps(event.details, ensure_ascii=False)
        assert not TEXT_KEYS & set(event.details), (event.action, event.details)
        assert "Cast-Passw0rd" not in flat
    export = AuditEvent.objects.get(action="audit.export")
    assert set(export.details) == {"format", "rows", "truncated", "filters"}
    assert "林小梅" not in json.dumps(export.details, ensure_ascii=False)
    assert "林小梅" in response.content.decode("utf-8-sig")


@pytest.mark.parametrize("name", ["security_admin", "system_admin", "outsider"])
def test_only_the_audit_admin_may_export_even_calling_the_service_directly(cast: Any, name: str) -> None:
    from django.core.exceptions import PermissionDenied

    from officeapp.audit.services import export_events

    with pytest.raises(PermissionDenied):
        export_events(actor=getattr(cast, name), events=AuditEvent.objects.all(), fmt="csv", filters={})
    assert not AuditEvent.objects.filter(action="audit.export").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_stops_at_the_row_limit_and_says_so(
    db: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from officeapp.audit import export

    monkeypatch.setattr(export, "EXPORT_MAX_ROWS", 2)
    for n in range(3):
        record(f"test.limit.{n}")
    exported = export.write_events(AuditEvent.objects.filter(action__startswith="test.limit."), fmt=fmt)
    assert (exported.rows, exported.truncated) == (2, True)
    exact = export.write_events(AuditEvent.objects.filter(action="test.limit.0"), fmt=fmt)
    assert (exact.rows, exact.truncated) == (1, False)
    if fmt == "csv":
        lines = exported.content.decode("utf-8-sig").splitlines()
        assert len(lines) == 3 and "test.limit.2" in lines[1] and "test.limit.1" in lines[2]
