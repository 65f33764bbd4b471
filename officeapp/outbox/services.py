"""emit(): write an outbox row in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from officeapp.outbox.models import OutboxEvent


def emit(
    topic: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str | int = "",
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return OutboxEvent.objects.create(
        topic=topic, object_type=object_type, object_id=str(object_id), payload=payload or {}
    )
