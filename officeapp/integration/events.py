"""The webhook event catalog: which outbox rows become which events, what they carry, who hears them.

An app subscribes to event keys (`EVENTS`). The "webhooks" outbox consumer (officeapp.integration.
webhooks) turns each outbox row into at most one `Event` here, then asks `Event.reaches(app)` for each
subscribed app and `Event.payload_for(app)` for the body it is sent.

Payloads hold ids and a few short fields only — never document text, never phone numbers — plus
"event" (the key), "id" (the outbox row's id: the receiver's idempotency key, the same for every retry
and replay) and "occurred_at" (ISO 8601, when the change was committed to the outbox).

Audience:
- user.* and department.changed: every subscribed app (the directory is province-wide); the fields are
  those of the directory card any signed-in user sees (name, agency, department, position, active).
- document.distributed: apps whose owner agency or data agencies include a recipient agency; each app
  is told only about its own agencies' exchange records.
- supervision.item.changed: apps whose agencies are a unit of the item (牵头/协办, an agency or one of
  its departments) or the supervising agency (督办机关).

officeapp must not import documents or workflows (arrows point down): the exchange events need
nothing beyond the outbox payload, and an event only a higher app can build (supervision.item.changed)
is an `EventSource` that app registers in `officeapp.registries.webhook_events` (workflows.webhook_events).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from officeapp.integration.models import App
from officeapp.org.models import Department, User
from officeapp.outbox.models import OutboxEvent
from officeapp.registries import webhook_events

# key → Chinese label, in the order the subscription form lists them; registered EventSources add
# theirs when their app is ready (before any form or serializer reads this).
EVENTS: dict[str, str] = {
    "user.created": "用户新增",
    "user.changed": "用户信息变更",
    "user.disabled": "用户停用",
    "department.changed": "部门变更",
    "document.distributed": "公文分发到本单位",
}

# org.user.changed's payload "event" values that an app hears about, and as what. Role grants,
# delegations and password resets are not directory facts an outside system needs.
_USER_CHANGES: dict[str, str] = {
    "created": "user.created",
    "disabled": "user.disabled",
    "updated": "user.changed",
    "enabled": "user.changed",
    "transferred": "user.changed",
    "moved": "user.changed",
    "concurrent_post_added": "user.changed",
    "concurrent_post_removed": "user.changed",
}


@dataclass
class Event:
    key: str
    outbox_id: int
    occurred_at: datetime
    data: dict[str, Any]
    # None: everyone subscribed; else the agency ids an app must hold one of (owner or data agencies).
    agencies: set[int] | None = None
    # Per-app narrowing of the payload (document.distributed: only that app's records).
    narrow: Callable[[dict[str, Any], set[int]], dict[str, Any]] | None = field(default=None, repr=False)

    def reaches(self, app_agencies: set[int]) -> bool:
        return self.agencies is None or bool(self.agencies & app_agencies)

    def payload_for(self, app_agencies: set[int]) -> dict[str, Any]:
        data = self.narrow(self.data, app_agencies) if self.narrow is not None else self.data
        return {
            "event": self.key,
            "id": self.outbox_id,
            "occurred_at": timezone.localtime(self.occurred_at).isoformat(),
            "data": data,
        }


def app_agencies(app: App) -> set[int]:
    """The agencies an app speaks for: its owner and its data agencies (prefetch `data_agencies`)."""
    return {app.owner_agency_id, *(a.pk for a in app.data_agencies.all())}


def _user_card(user: User) -> dict[str, Any]:
    department = user.department
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.real_name,
        "agency": {"id": department.agency_id, "name": department.agency.name} if department else None,
        "department": {"id": department.pk, "name": department.name} if department else None,
        "position": user.position.name if user.position_id else "",
        "is_active": user.is_active,
    }


def _user_event(row: OutboxEvent) -> Event | None:
    key = _USER_CHANGES.get(str(row.payload.get("event", "")))
    if key is None:
        return None
    user = (
        User.objects.select_related("department__agency", "position").filter(pk=_int(row.object_id)).first()
    )
    if user is None:
        return None
    data: dict[str, Any] = {"user": _user_card(user), "change": row.payload.get("event")}
    if row.payload.get("fields"):
        data["fields"] = [f for f in row.payload["fields"] if f not in {"mobile", "office_phone", "email"}]
    return Event(key, row.id, row.created_at, data)


def _department_event(row: OutboxEvent) -> Event | None:
    department = Department.objects.select_related("agency").filter(pk=_int(row.object_id)).first()
    if department is None:
        return None
    data = {
        "department": {
            "id": department.pk,
            "name": department.name,
            "code": department.code,
            "agency": {"id": department.agency_id, "name": department.agency.name},
            "parent": department.parent_id,
            "is_active": department.is_active,
        },
        "change": row.payload.get("event", "created"),
    }
    return Event("department.changed", row.id, row.created_at, data)


def _only_own_records(data: dict[str, Any], agencies: set[int]) -> dict[str, Any]:
    return {**data, "records": [r for r in data["records"] if r["recipient"] in agencies]}


def _distributed_event(row: OutboxEvent) -> Event | None:
    recipients = [int(r) for r in row.payload.get("recipients", [])]
    records = [int(r) for r in row.payload.get("records", [])]
    if not recipients:
        return None
    pairs = [{"id": rec, "recipient": agency} for rec, agency in zip(records, recipients, strict=False)]
    data = {"document": {"id": _int(row.object_id)}, "sender": row.payload.get("sender"), "records": pairs}
    return Event(
        "document.distributed",
        row.id,
        row.created_at,
        data,
        agencies=set(recipients),
        narrow=_only_own_records,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def key_for(row: OutboxEvent) -> str | None:
    """The catalog key an outbox row would become, from the row alone (no query): lets the consumer
    skip rows nobody subscribed to without reading their objects."""
    topic = row.topic
    if topic == "org.user.changed":
        return _USER_CHANGES.get(str(row.payload.get("event", "")))
    if topic == "org.department.changed":
        return "department.changed"
    if topic == "documents.exchange.sent":
        return "document.distributed"
    for key, source in webhook_events.items():
        if source.matches(row):
            return key
    return None


def event_for(row: OutboxEvent) -> Event | None:
    """The webhook event an outbox row is, or None. Re-reads the object's current state (a row may
    arrive late, after a newer change of the same object: receivers get the state as it is now)."""
    key = key_for(row)
    if key is None:
        return None
    builder = _BUILDERS.get(key)
    if builder is None:
        return webhook_events[key].build(row)
    return builder(row)


_BUILDERS: dict[str, Callable[[OutboxEvent], Event | None]] = {
    "user.created": _user_event,
    "user.changed": _user_event,
    "user.disabled": _user_event,
    "department.changed": _department_event,
    "document.distributed": _distributed_event,
}


@dataclass(frozen=True)
class EventSource:
    """An event a higher app builds: its label, which outbox rows it is (from the row alone, no
    query), and the Event for a row (re-reading the object's current state)."""

    label: str
    matches: Callable[[OutboxEvent], bool]
    build: Callable[[OutboxEvent], Event | None]


def register_event(key: str, source: EventSource) -> None:
    """Called from a higher app's AppConfig.ready(): the key joins the catalog subscribers choose from."""
    webhook_events.register(key, source)
    EVENTS[key] = source.label
