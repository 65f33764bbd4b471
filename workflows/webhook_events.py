"""The webhook event only 督办 can build: supervision.item.changed, registered into the platform's
catalog (officeapp.integration.events) from WorkflowsConfig.ready().

Who hears it: apps whose agencies are a unit of the item (牵头/协办, an agency or one of its
departments) or the supervising agency (督办机关). The payload holds the item's number, title, state,
light, progress and deadline — never its requirement text or reports."""

from __future__ import annotations

from typing import Any

from officeapp.integration.events import Event, EventSource
from officeapp.outbox.models import OutboxEvent
from workflows.models import SupervisionItem, SupervisionUnit

KEY = "supervision.item.changed"
ITEM_TYPE = "workflows.supervisionitem"
# Topics about a supervision item's life (not the monthly bulletin).
_SKIP = {"workflows.supervision.bulletin_created"}


def matches(row: OutboxEvent) -> bool:
    if row.topic.startswith("workflows.supervision.") and row.topic not in _SKIP:
        return True
    return row.topic == "workflows.task.completed" and row.payload.get("flow") == "supervision"


def _item_id(row: OutboxEvent) -> int | None:
    value: Any = row.object_id if row.object_type == ITEM_TYPE else row.payload.get("item")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def build(row: OutboxEvent) -> Event | None:
    item_id = _item_id(row)
    item = SupervisionItem.objects.filter(pk=item_id).first() if item_id is not None else None
    if item is None:
        return None
    agencies: set[int] = {item.agency_id}
    for agency_id, department_agency_id in SupervisionUnit.objects.filter(item_id=item.pk).values_list(
        "agency_id", "department__agency_id"
    ):
        agencies.update(a for a in (agency_id, department_agency_id) if a is not None)
    data = {
        "item": {
            "id": item.pk,
            "number": item.number,
            "title": item.title,
            "agency": item.agency_id,
            "state": item.state,
            "light": item.light,
            "progress": item.progress,
            "due_on": item.due_on.isoformat() if item.due_on else None,
        },
        "change": row.topic.rsplit(".", 1)[-1],
    }
    return Event(KEY, row.id, row.created_at, data, agencies=agencies)


SOURCE = EventSource(label="督办事项变更", matches=matches, build=build)
