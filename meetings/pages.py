"""Meetings' place in the shell: the 会议 entry of the top navigation (its badge: meetings waiting
for the viewer's 回执) and the 工作台 tile 近期会议 (the viewer's coming meetings, those still to be
replied to marked 待回执), each one query."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from meetings import access
from meetings.models import Meeting, MeetingStatus, Reply, Rsvp

TILE_KEY = "meetings.upcoming"
OPEN_STATUSES = (MeetingStatus.NOTICED, MeetingStatus.LIVE)


def waiting_count(user: Any) -> int | None:
    """Meetings (noticed or live, not over) whose 回执 the user still owes."""
    if not access.may_use_meetings(user):
        return None
    return (
        Rsvp.objects.filter(
            user=user,
            reply=Reply.NONE,
            meeting__status__in=OPEN_STATUSES,
            meeting__ends_at__gt=timezone.now(),
        ).count()
        or None
    )


def _upcoming(user: Any) -> Any:
    mine = Rsvp.objects.filter(meeting_id=OuterRef("pk"), user=user).values("reply")[:1]
    return (
        Meeting.objects.filter(status__in=OPEN_STATUSES, ends_at__gt=timezone.now())
        .filter(
            Q(pk__in=Rsvp.objects.filter(user=user).values("meeting_id")) | Q(organiser=user) | Q(host=user)
        )
        .annotate(my_reply=Subquery(mine))
        .order_by("starts_at", "pk")
        .only("pk", "title", "starts_at")
    )


def upcoming_loader(user: Any, limit: int) -> tuple[int | None, list[Any]]:
    from officeapp.workbench.tiles import TileItem, head_and_count

    if not access.may_use_meetings(user):
        return None, []
    count, head = head_and_count(_upcoming(user), limit)
    return count, [
        TileItem(
            title=row.title,
            url=reverse("meetings:detail", args=[row.pk]),
            when=row.starts_at,
            meta="待回执" if row.my_reply == Reply.NONE else "",
        )
        for row in head
    ]


def register() -> None:
    """Registrations into officeapp's registries, called once from MeetingsConfig.ready()."""
    from officeapp.registries import nav_entries, workbench_tiles
    from officeapp.workbench.navigation import NavEntry
    from officeapp.workbench.tiles import loaded

    nav_entries.register(
        "meetings", NavEntry("会议", "meetings:index", 20, access.may_use_meetings, badge=waiting_count)
    )
    workbench_tiles.register(
        TILE_KEY,
        loaded(TILE_KEY, "近期会议", 18, upcoming_loader, url="meetings:index", empty_text="近期没有会议。"),
    )
