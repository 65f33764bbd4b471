"""What the meeting page's check-in, agenda and minutes sections read (the page passes only the
meeting, the viewer and whether they manage it): one tag per section, reads only."""

from __future__ import annotations

from typing import Any

from django import template

from meetings.models import AgendaItem, Material, Meeting, Minutes, Reply, Rsvp
from meetings.stats import stats_for

register = template.Library()


@register.simple_tag
def agenda_summary(meeting: Meeting) -> dict[str, Any]:
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("order"))
    materials = list(Material.objects.filter(meeting=meeting).order_by("pk"))
    for item in items:
        item.item_materials = [m for m in materials if m.agenda_item_id == item.pk]  # type: ignore[attr-defined]
    return {"items": items, "meeting_materials": [m for m in materials if m.agenda_item_id is None]}


@register.simple_tag
def checkin_summary(meeting: Meeting, user: Any) -> dict[str, Any]:
    waiting = (
        Rsvp.objects.filter(meeting=meeting, checked_in_at__isnull=True)
        .exclude(reply=Reply.DELEGATE)
        .select_related("user")
        .order_by("user__pk")
    )
    return {"stats": stats_for(meeting), "waiting": list(waiting)}


@register.simple_tag
def minutes_summary(meeting: Meeting) -> dict[str, Any]:
    minutes = Minutes.objects.filter(meeting=meeting).select_related("document").first()
    decisions = list(minutes.decisions.order_by("order")) if minutes else []
    return {"minutes": minutes, "decisions": decisions}
