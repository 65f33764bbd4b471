"""会议室: the list, a room (with its booking form), creating and editing a room, the approvals page
(bookings waiting for the viewer, and the viewer's own upcoming bookings), deciding and cancelling.
Each POST calls one meetings.booking service; a refusal re-renders the form with what was typed and
the Chinese sentence."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from meetings import access, booking
from meetings.booking import SeriesUnavailable
from meetings.errors import MeetingError
from meetings.models import Booking, BookingStatus
from meetings.rooms_forms import BookingForm, CancelForm, DecisionForm, RoomForm, parse_day
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.org.models import Agency


def _require_meetings(user: Any) -> None:
    access.require_meetings_user(user)


def _admin_agencies(user: Any) -> list[Agency]:
    """Agencies whose rooms the user creates (会议管理员)."""
    own = getattr(getattr(user, "department", None), "agency", None)
    agencies = [own] if own is not None and access.is_meeting_admin(user, own) else []
    return agencies


@require_http_methods(["GET"])
@login_required
def rooms(request: HttpRequest) -> HttpResponse:
    _require_meetings(request.user)
    listed = access.visible_rooms(request.user).select_related("agency").prefetch_related("admins")
    show_inactive = request.GET.get("all") == "1"
    if not show_inactive:
        listed = listed.filter(is_active=True)
    pending = access.manageable_bookings(request.user).filter(
        status=BookingStatus.PENDING, ends_at__gt=timezone.now()
    )
    return render(
        request,
        "meetings/rooms_list.html",
        {
            "rooms": [{"room": r, "can_manage": access.can_manage_room(request.user, r)} for r in listed],
            "show_inactive": show_inactive,
            "can_create": bool(_admin_agencies(request.user)),
            "pending_count": pending.count(),
            "page_title": "会议室",
        },
    )


def _booking_initial(request: HttpRequest) -> dict[str, Any]:
    day = parse_day(request.GET.get("day"), timezone.localdate())
    initial: dict[str, Any] = {"day": day, "attendees": 1, "count": 1, "interval": 1}
    for key in ("start", "end"):
        value = request.GET.get(key, "")
        if len(value) == 5 and value[2] == ":" and value.replace(":", "").isdigit():
            initial[key] = value
    return initial


@require_http_methods(["GET", "POST"])
@login_required
def room(request: HttpRequest, room_id: int) -> HttpResponse:
    found = access.get_room_for(request.user, room_id)
    may_book = access.can_book(request.user, found)
    error = ""
    report: list[booking.Occurrence] = []
    if request.method == "POST":
        form = BookingForm(request.POST)
        if not may_book:
            raise PermissionDenied(booking.MSG_MAY_NOT_BOOK)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data.get("repeat"):
                    result = booking.book_series(
                        actor=request.user,
                        room=found,
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        frequency=data["repeat"],
                        count=data["count"],
                        interval=data.get("interval") or 1,
                        purpose=data["purpose"],
                        attendees=data["attendees"],
                    )
                    return render(
                        request,
                        "meetings/rooms_series.html",
                        {"room": found, "result": result, "page_title": f"{found.name} · 周期预订"},
                    )
                held = booking.book(
                    actor=request.user,
                    room=found,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    purpose=data["purpose"],
                    attendees=data["attendees"],
                )
            except SeriesUnavailable as exc:
                error, report = exc.message, exc.occurrences
            except MeetingError as exc:
                error = exc.message
            else:
                if held.status == BookingStatus.PENDING:
                    messages.success(request, "已提交预订，等待会议室管理员审批；审批前该时段为您保留。")
                else:
                    messages.success(request, f"已预订 {booking.slot_label(held.starts_at, held.ends_at)}。")
                day = timezone.localtime(held.starts_at).date().isoformat()
                return redirect(f"{reverse('meetings:room_calendar', args=[found.pk])}?day={day}")
    else:
        form = BookingForm(initial=_booking_initial(request))
    return render(
        request,
        "meetings/rooms_detail.html",
        {
            "room": found,
            "form": form,
            "error": error,
            "report": report,
            "may_book": may_book,
            "can_manage": access.can_manage_room(request.user, found),
            "today": timezone.localdate(),
            "page_title": found.name,
        },
        status=200,
    )


def _room_form_values(form: RoomForm) -> dict[str, Any]:
    data = form.cleaned_data
    values = {
        "name": data["name"],
        "location": data["location"],
        "capacity": data["capacity"],
        "equipment": data["equipment"],
        "bookable_by": data["bookable_by"],
        "bookable_departments": list(data["bookable_departments"]),
        "requires_approval": data["requires_approval"],
        "is_active": data["is_active"],
    }
    if "admins" in data:
        values["admins"] = list(data["admins"])
    return values


@require_http_methods(["GET", "POST"])
@login_required
def room_new(request: HttpRequest) -> HttpResponse:
    _require_meetings(request.user)
    agencies = _admin_agencies(request.user)
    if not agencies:
        raise PermissionDenied(booking.MSG_NOT_ROOM_ADMIN)
    agency = agencies[0]
    error = ""
    if request.method == "POST":
        form = RoomForm(request.POST, agency_id=agency.pk)
        if form.is_valid():
            try:
                created = booking.create_room(actor=request.user, agency=agency, **_room_form_values(form))
            except MeetingError as exc:
                error = exc.message
            else:
                messages.success(request, f"已添加会议室“{created.name}”。")
                return redirect("meetings:room", room_id=created.pk)
    else:
        form = RoomForm(agency_id=agency.pk, initial={"bookable_by": "agency", "is_active": True})
    return render(
        request,
        "meetings/rooms_form.html",
        {"form": form, "error": error, "agency": agency, "room": None, "page_title": "添加会议室"},
    )


@require_http_methods(["GET", "POST"])
@login_required
def room_edit(request: HttpRequest, room_id: int) -> HttpResponse:
    found = access.get_room_for(request.user, room_id)
    if not access.can_manage_room(request.user, found):
        raise PermissionDenied(booking.MSG_NOT_ROOM_ADMIN)
    may_set_admins = access.is_meeting_admin(request.user, found.agency_id)
    error = ""
    if request.method == "POST":
        form = RoomForm(request.POST, agency_id=found.agency_id, may_set_admins=may_set_admins)
        if form.is_valid():
            try:
                booking.update_room(found, actor=request.user, **_room_form_values(form))
            except MeetingError as exc:
                error = exc.message
            else:
                messages.success(request, "已保存会议室设置。")
                return redirect("meetings:room", room_id=found.pk)
    else:
        form = RoomForm(
            agency_id=found.agency_id, may_set_admins=may_set_admins, initial=RoomForm.initial_for(found)
        )
    return render(
        request,
        "meetings/rooms_form.html",
        {
            "form": form,
            "error": error,
            "agency": found.agency,
            "room": found,
            "page_title": f"编辑 {found.name}",
        },
    )


def _bookings_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    waiting = (
        access.manageable_bookings(request.user)
        .filter(status=BookingStatus.PENDING, ends_at__gt=now)
        .select_related("room", "booked_by")
        .order_by("starts_at", "pk")
    )
    mine = (
        Booking.objects.filter(booked_by=request.user, ends_at__gt=now)
        .exclude(status=BookingStatus.CANCELLED)
        .select_related("room")
        .order_by("starts_at", "pk")[:100]
    )
    return {
        "waiting": waiting,
        "mine": mine,
        "page_title": "会议室预订审批",
        "failed_id": None,
        "error": "",
        "typed_note": "",
        **extra,
    }


@require_http_methods(["GET"])
@login_required
def bookings(request: HttpRequest) -> HttpResponse:
    _require_meetings(request.user)
    return render(request, "meetings/rooms_bookings.html", _bookings_context(request))


def _booking_for(user: Any, booking_id: int) -> Booking:
    """A booking of a room the user may see (else the one 404)."""
    pk = access.parse_id(booking_id)
    found = (
        Booking.objects.filter(pk=pk, room__in=access.visible_rooms(user)).select_related("room").first()
        if pk
        else None
    )
    if found is None:
        raise Http404(NOT_FOUND_MESSAGE)
    return found


@require_POST
@login_required
def booking_decide(request: HttpRequest, booking_id: int) -> HttpResponse:
    found = _booking_for(request.user, booking_id)
    if not access.manageable_bookings(request.user).filter(pk=found.pk).exists():
        raise PermissionDenied(booking.MSG_NOT_MANAGER)
    form = DecisionForm(request.POST)
    note = request.POST.get("note", "")
    if not form.is_valid():
        error = "；".join(e for errors in form.errors.values() for e in errors)
        context = _bookings_context(request, failed_id=found.pk, error=error, typed_note=note)
        return render(request, "meetings/rooms_bookings.html", context, status=400)
    try:
        if form.cleaned_data["decision"] == "approve":
            booking.approve_booking(found, actor=request.user, note=form.cleaned_data["note"])
            messages.success(request, "已批准该预订。")
        else:
            booking.refuse_booking(found, actor=request.user, note=form.cleaned_data["note"])
            messages.success(request, "已退回该预订，时段已释放。")
    except MeetingError as exc:
        context = _bookings_context(request, failed_id=found.pk, error=exc.message, typed_note=note)
        return render(request, "meetings/rooms_bookings.html", context, status=400)
    return redirect("meetings:bookings")


def _refuse_a_meetings_room(user: Any, found: Booking) -> None:
    """A booking that holds the room of a meeting still to be held is the meeting's: cancelling it
    here would free the room behind the invited people's backs (their notice names it) and nobody
    would be told. The organiser changes the room or cancels the meeting on the meeting page, which
    tells them; the room's managers may still withdraw it."""
    from meetings.models import Meeting, MeetingStatus

    if access.can_manage_room(user, found.room):
        return
    held_for = (
        Meeting.objects.filter(booking=found)
        .exclude(status__in=[MeetingStatus.CANCELLED, MeetingStatus.ENDED])
        .first()
    )
    if held_for is not None:
        raise MeetingError(MSG_MEETINGS_ROOM.format(title=held_for.title))


MSG_MEETINGS_ROOM = "该预订是会议“{title}”的会场，请在会议页面更换会议室或取消会议，参会人员会收到通知。"


@require_POST
@login_required
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    found = _booking_for(request.user, booking_id)
    form = CancelForm(request.POST)
    reason = request.POST.get("reason", "")
    if not form.is_valid():
        error = "；".join(e for errors in form.errors.values() for e in errors)
        context = _bookings_context(request, failed_id=found.pk, error=error, typed_note=reason)
        return render(request, "meetings/rooms_bookings.html", context, status=400)
    try:
        _refuse_a_meetings_room(request.user, found)
        booking.cancel_booking(found, actor=request.user, reason=form.cleaned_data["reason"])
    except MeetingError as exc:
        context = _bookings_context(request, failed_id=found.pk, error=exc.message, typed_note=reason)
        return render(request, "meetings/rooms_bookings.html", context, status=400)
    messages.success(request, "已取消该预订，时段已释放。")
    back = request.POST.get("next", "")
    if back.startswith("/meetings/") and not back.startswith("//"):
        return redirect(back)
    return redirect("meetings:bookings")
