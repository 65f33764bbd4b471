"""Who replied what and who is checked in: the organiser's live statistics of one meeting.

`stats_for(meeting)` counts the Rsvp rows in one query; `push_stats(meeting_id)` (call from
transaction.on_commit after any reply, delegation, check-in or change of invitees) sends the fresh
figures to the organiser's open pages through officeapp.notify.fanout.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from meetings.groups import stats_group
from meetings.models import Meeting, Reply, Rsvp
from officeapp.notify import fanout


def stats_for(meeting: Meeting | int) -> dict[str, int]:
    meeting_id = meeting.pk if isinstance(meeting, Meeting) else int(meeting)
    counts = Rsvp.objects.filter(meeting_id=meeting_id).aggregate(
        invited=Count("id"),
        attend=Count("id", filter=Q(reply=Reply.ATTEND)),
        leave=Count("id", filter=Q(reply=Reply.LEAVE)),
        delegate=Count("id", filter=Q(reply=Reply.DELEGATE)),
        silent=Count("id", filter=Q(reply=Reply.NONE)),
        checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
    )
    # Expected at the door: everyone not on leave and not replaced by a delegate (who has a row).
    counts["expected"] = counts["invited"] - counts["leave"] - counts["delegate"]
    return {key: int(value or 0) for key, value in counts.items()}


# The organiser's page lists at most this many non-repliers by name (and says how many more).
SILENT_LIST_LIMIT = 100


def unit_of(user: Any) -> str:
    """ "省财政厅 办公室": the person's agency (short name) and department."""
    department = getattr(user, "department", None)
    if department is None:
        return ""
    agency = department.agency
    return f"{agency.short_name or agency.name} {department.name}"


def silent_people(meeting: Meeting | int, limit: int = SILENT_LIST_LIMIT) -> list[dict[str, Any]]:
    """Who has not replied yet, in invitation order: [{"user", "name", "unit", "reminded"}]."""
    meeting_id = meeting.pk if isinstance(meeting, Meeting) else int(meeting)
    rows = (
        Rsvp.objects.filter(meeting_id=meeting_id, reply=Reply.NONE)
        .select_related("user__department__agency")
        .order_by("pk")[:limit]
    )
    return [
        {
            "user": row.user_id,
            "name": row.user.real_name or row.user.username,
            "unit": unit_of(row.user),
            "reminded": row.reminded_at is not None,
        }
        for row in rows
    ]


def stats_frame(meeting_id: int) -> dict[str, Any]:
    """The figures and the first SILENT_LIST_LIMIT non-repliers (the page says "等 N 人" beyond)."""
    return {
        "type": "meeting.stats",
        "meeting": int(meeting_id),
        "stats": stats_for(meeting_id),
        "silent_people": silent_people(meeting_id),
    }


def push_stats(meeting_id: int) -> None:
    """Send the current figures to the organiser's open pages (call from on_commit)."""
    fanout.publish(stats_group(meeting_id), stats_frame(meeting_id))
