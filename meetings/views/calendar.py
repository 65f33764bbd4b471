"""Calendars: a room's day or week, "我的日程" (the viewer's own week of meetings), one meeting's
ICS download, the personal feed (no session: the token is the key) and its settings page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from meetings import access, calendars, ics
from meetings.rooms_forms import parse_day
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record_view

ICS_TYPE = "text/calendar; charset=utf-8"


@require_http_methods(["GET"])
@login_required
def room_calendar(request: HttpRequest, room_id: int) -> HttpResponse:
    room = access.get_room_for(request.user, room_id)
    today = timezone.localdate()
    may_book = access.can_book(request.user, room)
    if "week" in request.GET:
        monday = calendars.monday_of(parse_day(request.GET.get("week"), today))
        week = calendars.room_week(room, monday, request.user)
        return render(
            request,
            "meetings/calendar_room_week.html",
            {
                "room": room,
                "week": week,
                "previous": (monday - timedelta(days=7)).isoformat(),
                "next": (monday + timedelta(days=7)).isoformat(),
                "this_week": calendars.monday_of(today).isoformat(),
                "may_book": may_book,
                "page_title": f"{room.name} · 周视图",
            },
        )
    day = parse_day(request.GET.get("day"), today)
    return render(
        request,
        "meetings/calendar_room_day.html",
        {
            "room": room,
            "calendar": calendars.room_day(room, day, request.user),
            "previous": (day - timedelta(days=1)).isoformat(),
            "next": (day + timedelta(days=1)).isoformat(),
            "week": calendars.monday_of(day).isoformat(),
            "today": today,
            "may_book": may_book,
            "can_manage": access.can_manage_room(request.user, room),
            "page_title": f"{room.name} · 日视图",
        },
    )


@require_http_methods(["GET"])
@login_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    access.require_meetings_user(request.user)
    today = timezone.localdate()
    monday = calendars.monday_of(parse_day(request.GET.get("week"), today))
    return render(
        request,
        "meetings/calendar_mine.html",
        {
            "week": calendars.person_week(request.user, monday),
            "previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat(),
            "this_week": calendars.monday_of(today).isoformat(),
            "today": today,
            "page_title": "我的日程",
        },
    )


@require_http_methods(["GET"])
@login_required
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    response = HttpResponse(ics.meeting_ics(meeting), content_type=ICS_TYPE)
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    record_view(request, meeting, action="meetings.meeting.ics")
    return response


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """No session: calendar apps fetch this on their own. An unknown token is a plain 404."""
    user = ics.feed_user(token)
    if user is None or not access.may_use_meetings(user):
        raise Http404(NOT_FOUND_MESSAGE)
    response = HttpResponse(ics.feed_ics(user), content_type=ICS_TYPE)
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def feed_settings(request: HttpRequest) -> HttpResponse:
    access.require_meetings_user(request.user)
    if request.method == "POST":
        ics.rotate_calendar_feed(actor=request.user)
        messages.success(request, "已更换订阅地址，旧地址已失效，请在手机日历中重新订阅。")
        return redirect("meetings:feed_settings")
    calendar_feed = ics.calendar_feed_for(actor=request.user)
    url = request.build_absolute_uri(reverse("meetings:feed", args=[calendar_feed.token]))
    return render(
        request,
        "meetings/calendar_feed.html",
        {"feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1], "page_title": "日历订阅"},
    )
