"""签到 pages: the door (QR code, live count, who is in, 代为签到) and the phone's check-in page.

The check-in page is reached from the QR code: the URL carries the meeting id and its token. A
person not signed in goes to the sign-in page and comes back (login_required keeps the URL). GET
only shows the page with one big 签到 button; the check-in is the POST (CSRF-protected).
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from meetings import access, checkin
from meetings.errors import MeetingError
from meetings.models import Meeting, Reply, Rsvp
from meetings.stats import stats_for


def _require_manager(request: HttpRequest, meeting: Meeting) -> None:
    if not access.can_manage_meeting(request.user, meeting):
        raise PermissionDenied("只有会议组织者可以使用签到管理。")


def checkin_url(request: HttpRequest, meeting: Meeting) -> str:
    return request.build_absolute_uri(reverse("meetings:checkin", args=[meeting.pk, meeting.checkin_token]))


def qr_svg(url: str) -> str:
    # segno draws only the code's modules: no user text reaches this markup.
    return mark_safe(segno.make(url, error="m").svg_inline(scale=10, border=2, omitsize=True))  # noqa: S308


def door_lists(meeting: Meeting) -> dict[str, Any]:
    rows = list(
        Rsvp.objects.filter(meeting=meeting).select_related("user__department__agency").order_by("user__pk")
    )
    arrived = sorted((r for r in rows if r.checked_in_at), key=lambda r: r.checked_in_at, reverse=True)
    waiting = [r for r in rows if not r.checked_in_at and r.reply != Reply.DELEGATE]
    return {"arrived": arrived, "waiting": waiting, "stats": stats_for(meeting)}


def _render_door(
    request: HttpRequest, meeting: Meeting, *, error: str = "", status: int = 200
) -> HttpResponse:
    url = checkin_url(request, meeting)
    context = {
        "page_title": f"签到 · {meeting.title}",
        "meeting": meeting,
        "checkin_url": url,
        "qr": qr_svg(url),
        "error": error,
        "window_refusal": checkin.window_refusal(meeting),
        **door_lists(meeting),
    }
    return render(request, "meetings/checkin_door.html", context, status=status)


@require_http_methods(["GET"])
@login_required
def door(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The organiser's page at the door: the QR code, 已签到 N / 应到 M (live), who is in."""
    meeting = access.get_meeting_for(request.user, meeting_id)
    _require_manager(request, meeting)
    if request.GET.get("part") == "lists":
        # What the page's script fetches when the count changes: the two lists only.
        return render(request, "meetings/checkin_lists.html", {"meeting": meeting, **door_lists(meeting)})
    return _render_door(request, meeting)


@require_POST
@login_required
def manual(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """代为签到 of one invited person (POST user=<id>)."""
    meeting = access.get_meeting_for(request.user, meeting_id)
    _require_manager(request, meeting)
    user_id = access.parse_id(request.POST.get("user"))
    person = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if person is None:
        return _render_door(request, meeting, error="请选择要代为签到的人员。", status=400)
    try:
        rsvp = checkin.check_in_by_hand(meeting, actor=request.user, user=person)
    except MeetingError as exc:
        return _render_door(request, meeting, error=exc.message, status=400)
    messages.success(
        request, f"已为{person.real_name}签到（{timezone.localtime(rsvp.checked_in_at):%H:%M}）。"
    )
    return redirect("meetings:checkin_door", meeting_id=meeting.pk)


@require_http_methods(["GET", "POST"])
@login_required
def scan(request: HttpRequest, meeting_id: int, token: str) -> HttpResponse:
    """The page the QR code opens: one 签到 button; the POST checks the signed-in person in."""
    meeting = access.meeting_for_checkin(meeting_id, token)
    if meeting is None:
        return render(
            request,
            "meetings/checkin_scan.html",
            {"page_title": "签到", "meeting": None, "refusal": checkin.MSG_WRONG_CODE},
            status=404,
        )
    done = False
    if request.method == "POST":
        try:
            rsvp = checkin.check_in(meeting, actor=request.user, token=token)
        except MeetingError as exc:
            rsvp, refusal = access.rsvp_of(request.user, meeting), exc.message
        else:
            refusal, done = "", True
    else:
        rsvp, refusal = checkin.state_for(meeting, request.user)
    status = 200 if request.method == "GET" or done else 400
    context = {"page_title": "签到", "meeting": meeting, "rsvp": rsvp, "refusal": refusal, "done": done}
    return render(request, "meetings/checkin_scan.html", context, status=status)
