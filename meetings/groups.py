"""Names of the socket fan-out groups of meetings (officeapp.notify.fanout)."""

from __future__ import annotations


def room_group(meeting_id: int) -> str:
    """Every socket in the live meeting room (meetings.live)."""
    return f"meeting.{int(meeting_id)}.room"


def stats_group(meeting_id: int) -> str:
    """The organiser's pages that watch replies and check-ins arrive (meetings.stats)."""
    return f"meeting.{int(meeting_id)}.stats"
