"""ICS (iCalendar, RFC 5545) of one meeting and a person's calendar feed, with the icalendar library.

UIDs are stable per meeting (meeting-<pk>@<host>), so a phone's calendar updates the same event when
the meeting moves and marks it cancelled (STATUS:CANCELLED) instead of adding a second one. Times
are written in UTC (…Z), which every calendar app reads without a VTIMEZONE.

The feed is subscribed to without a session: its URL carries the person's secret token
(CalendarFeed); rotating the token invalidates the old URL. The feed holds only the person's own
meetings that meetings.access lets them see.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from meetings.calendars import own_meetings
from meetings.models import CalendarFeed, Meeting, MeetingStatus, new_token
from officeapp.audit.services import record

PRODID = "-//officeapp//办会//ZH"
# The feed's window: what is past by more than this is of no use on a phone.
FEED_PAST_DAYS = 90
FEED_MAX_EVENTS = 500


def _uid_host() -> str:
    hosts = [
        h for h in getattr(settings, "ALLOWED_HOSTS", []) if h and h not in ("*",) and not h.startswith(".")
    ]
    return hosts[0] if hosts else "officeapp.local"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{_uid_host()}"


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _event(meeting: Meeting) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", meeting.title)
    room = meeting.room
    location = ""
    if room is not None:
        location = f"{room.name}（{room.location}）" if room.location else room.name
    if meeting.online:
        location = f"{location}、线上" if location else "线上"
    if location:
        event.add("location", location)
    if meeting.notice:
        event.add("description", meeting.notice)
    organiser = meeting.organiser
    address = vCalAddress(
        f"mailto:{organiser.email}" if organiser.email else f"urn:officeapp:user:{organiser.pk}"
    )
    address.params["cn"] = vText(str(organiser))
    event.add("organizer", address)
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    # SEQUENCE moves with every edit, so calendar apps take the newer version.
    event.add("sequence", max(0, int((meeting.updated_at - meeting.created_at).total_seconds())))
    event.add("last-modified", meeting.updated_at.astimezone(UTC))
    return event


def meeting_ics(meeting: Meeting) -> bytes:
    """One meeting as a calendar file (the caller has checked access)."""
    cal = _calendar(meeting.title)
    cal.add("method", "PUBLISH")
    cal.add_component(_event(meeting))
    return cal.to_ical()


def feed_ics(user: Any) -> bytes:
    """The person's own meetings from FEED_PAST_DAYS ago on (cancelled ones marked so)."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    meetings = (
        own_meetings(user)
        .filter(ends_at__gte=since)
        .select_related("booking__room", "organiser")
        .order_by("starts_at", "pk")[:FEED_MAX_EVENTS]
    )
    cal = _calendar(f"{user} 的会议")
    for meeting in meetings:
        cal.add_component(_event(meeting))
    return cal.to_ical()


# --- the feed's token -----------------------------------------------------------------------------


def feed_user(token: str) -> Any | None:
    """The active person whose feed `token` is, or None (an unknown or rotated token)."""
    if not token or len(token) > 64:
        return None
    feed = CalendarFeed.objects.filter(token=token).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


@transaction.atomic
def calendar_feed_for(*, actor: Any) -> CalendarFeed:
    """The actor's feed, made on first use."""
    feed, created = CalendarFeed.objects.get_or_create(user=actor)
    if created:
        record("meetings.feed.create", actor=actor, obj=feed)
    return feed


@transaction.atomic
def rotate_calendar_feed(*, actor: Any) -> CalendarFeed:
    """A new secret token: the old feed URL stops working at once."""
    feed, _ = CalendarFeed.objects.select_for_update().get_or_create(user=actor)
    feed.token = new_token()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    record("meetings.feed.rotate", actor=actor, obj=feed)
    return feed
