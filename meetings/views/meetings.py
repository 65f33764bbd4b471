"""我的会议, the meeting form, the meeting page with the viewer's 回执, invitees, the clerk's choice,
reminders, cancelling, the attendance export and the organiser's live statistics.

Each view: parse → look up through meetings.access (the same 404 for missing and not yours) →
one service → redirect; a refusal re-renders the page with what was typed and the sentence."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from meetings import access, services
from meetings.errors import MeetingError
from meetings.export import CONTENT_TYPE, attendance_rows, attendance_workbook, filename_for
from meetings.fields import in_range
from meetings.forms import CancelForm, ChooseForm, InviteesForm, MeetingForm, ReplyForm, initial_for
from meetings.media import may_configure as may_configure_media
from meetings.models import Invitee, InviteeKind, Meeting, MeetingStatus, Reply, Rsvp
from meetings.stats import SILENT_LIST_LIMIT, silent_people, stats_for
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record_view
from officeapp.org.models import User

LIST_PAGE = 20
PEOPLE_QUERY_MAX = 50
TABS = {
    "reply": "待回执",
    "upcoming": "即将召开",
    "organised": "我组织的",
    "past": "已结束",
}


def _require_user(request: HttpRequest) -> None:
    access.require_meetings_user(request.user)


def _manageable(request: HttpRequest, meeting_id: int) -> Meeting:
    """The organiser's pages: 404 for who may not see the meeting, 403 for who sees but does not run it."""
    meeting = access.get_meeting_for(request.user, meeting_id)
    if not access.can_manage_meeting(request.user, meeting):
        raise PermissionDenied(access.MSG_ORGANISER_ONLY)
    return meeting


# --- 我的会议 -------------------------------------------------------------------------------------


def waiting_for_reply(user: Any) -> Any:
    """Meetings the user is still to reply to (noticed or live, not over)."""
    return Meeting.objects.filter(
        rsvps__user=user,
        rsvps__reply=Reply.NONE,
        status__in=[MeetingStatus.NOTICED, MeetingStatus.LIVE],
        ends_at__gt=timezone.now(),
    )


def _tab_queryset(user: Any, tab: str) -> Any:
    now = timezone.now()
    mine = Q(organiser=user) | Q(host=user) | Q(rsvps__user=user)
    if tab == "reply":
        qs = waiting_for_reply(user).order_by("starts_at", "pk")
    elif tab == "organised":
        qs = access.visible_meetings(user).filter(organiser=user).order_by("-starts_at", "-pk")
    elif tab == "past":
        qs = (
            Meeting.objects.filter(mine)
            .filter(Q(ends_at__lte=now) | Q(status__in=[MeetingStatus.ENDED, MeetingStatus.CANCELLED]))
            .exclude(status=MeetingStatus.DRAFT)
            .order_by("-starts_at", "-pk")
        )
    else:
        qs = (
            Meeting.objects.filter(mine)
            .filter(ends_at__gt=now, status__in=[MeetingStatus.NOTICED, MeetingStatus.LIVE])
            .order_by("starts_at", "pk")
        )
    return qs.distinct().select_related("booking__room", "host")


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        tab = "reply" if waiting_for_reply(request.user).exists() else "upcoming"
    page = Paginator(_tab_queryset(request.user, tab), LIST_PAGE).get_page(request.GET.get("page"))
    replies = dict(
        Rsvp.objects.filter(user=request.user, meeting_id__in=[m.pk for m in page]).values_list(
            "meeting_id", "reply"
        )
    )
    rows = [(m, replies.get(m.pk)) for m in page]
    return render(
        request,
        "meetings/list.html",
        {
            "page_title": "我的会议",
            "tabs": TABS,
            "tab": tab,
            "page": page,
            "rows": rows,
            "waiting": waiting_for_reply(request.user).distinct().count(),
            "choices": access.pending_agency_invitations(request.user).select_related("meeting"),
            "manages_rooms": access.manages_any_room(request.user),
            "configures_media": may_configure_media(request.user),
        },
    )


# --- the meeting form ----------------------------------------------------------------------------


def _free_rooms(form: MeetingForm, data: Any) -> set[int] | None:
    """Rooms of the form that hold no booking over the slot typed (for the room labels); None
    before a time is typed."""
    from meetings.models import HOLDING_STATUSES, Booking

    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if not starts_at or not ends_at:
        return None
    field = form.fields["room"]
    rooms = list(field.queryset)
    if not starts_at or not ends_at:
        return {r.pk for r in rooms}
    try:
        start = field_to_dt(str(starts_at))
        end = field_to_dt(str(ends_at))
    except ValueError:
        return None
    if not (in_range(start) and in_range(end)):
        return None  # the form says why; year 1 would overflow on its way to UTC
    busy = set(
        Booking.objects.filter(
            room__in=rooms, status__in=HOLDING_STATUSES, starts_at__lt=end, ends_at__gt=start
        ).values_list("room_id", flat=True)
    )
    return {r.pk for r in rooms} - busy


def _typed(request: HttpRequest) -> dict[str, Any]:
    """What the form held when 查看空闲会议室 sent it back as a GET."""
    fields = MeetingForm.base_fields
    return {k: v for k, v in request.GET.items() if k in fields and len(v) <= 5000}


def field_to_dt(value: str) -> Any:
    from datetime import datetime

    from meetings.forms import DATETIME_INPUT

    return timezone.make_aware(datetime.strptime(value, DATETIME_INPUT))


def _form_page(
    request: HttpRequest, form: MeetingForm, meeting: Meeting | None, status: int = 200
) -> HttpResponse:
    # 查看空闲会议室 comes back as a GET carrying the times typed so far.
    free = _free_rooms(form, form.data if form.is_bound else request.GET)
    return render(
        request,
        "meetings/meeting_form.html",
        {
            "page_title": "修改会议" if meeting else "新建会议",
            "form": form,
            "meeting": meeting,
            "free_rooms": free,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def new(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    form = MeetingForm(request.POST or None, user=request.user, initial=_typed(request))
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            if form.cleaned_data.get("frequency"):
                created, result = services.create_series(
                    actor=request.user,
                    frequency=form.cleaned_data["frequency"],
                    count=form.cleaned_data["count"],
                    **data,
                )
                conflicts = [o for o in result.occurrences if o.booking is None and o.conflict]
                if not created:
                    raise MeetingError("所有时段的会议室都已被预订，没有建立任何会议。")
                for occurrence in conflicts:
                    messages.warning(
                        request,
                        f"{timezone.localtime(occurrence.starts_at):%m月%d日 %H:%M} 未建立：{occurrence.conflict}",
                    )
                meeting = created[0]
                messages.success(request, f"已建立 {len(created)} 次周期会议。")
            else:
                meeting = services.create_meeting(actor=request.user, **data)
        except MeetingError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("meetings:invitees", meeting_id=meeting.pk)
    return _form_page(request, form, None, status=400 if form.is_bound and form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    form = MeetingForm(
        request.POST or None,
        user=request.user,
        series=False,
        initial={**initial_for(meeting), **_typed(request)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_meeting(meeting, actor=request.user, **form.service_fields())
        except MeetingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                "会议已修改。" if meeting.status == MeetingStatus.DRAFT else "会议已修改，已通知参会人员。",
            )
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return _form_page(request, form, meeting, status=400 if form.is_bound and form.errors else 200)


# --- invitees --------------------------------------------------------------------------------------


def _people_found(request: HttpRequest) -> tuple[str, list[Any]]:
    from officeapp.org.directory import search_people

    q = (request.GET.get("q") or "").strip()[:PEOPLE_QUERY_MAX]
    return q, ([p for p in search_people(request.user, q, limit=20)] if q else [])


def _chosen_people(ids: list[str]) -> list[User]:
    clean = [v for v in ids if v.isascii() and v.isdigit() and len(v) < 12]
    found = User.objects.filter(pk__in=clean, is_active=True).select_related("department__agency").in_bulk()
    return [found[int(i)] for i in dict.fromkeys(clean) if int(i) in found]


@require_http_methods(["GET", "POST"])
@login_required
def invitees(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    current = list(Invitee.objects.filter(meeting=meeting))
    if request.method == "POST":
        form = InviteesForm(request.POST, meeting=meeting)
        if form.is_valid():
            try:
                services.set_invitees(
                    meeting,
                    actor=request.user,
                    people=form.cleaned_data["members"],
                    departments=form.cleaned_data["departments"],
                    agencies=form.cleaned_data["quotas"],
                )
            except MeetingError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "参会对象已保存。")
                return redirect("meetings:detail", meeting_id=meeting.pk)
        chosen = _chosen_people(request.POST.getlist("members"))
        quotas = {k[6:]: v for k, v in request.POST.items() if k.startswith("quota_")}
    else:
        form = InviteesForm(
            meeting=meeting,
            initial={
                "departments": [i.department_id for i in current if i.kind == InviteeKind.DEPARTMENT],
                "agencies": [i.agency_id for i in current if i.kind == InviteeKind.AGENCY],
            },
        )
        ids = request.GET.getlist("members") or [
            str(i.user_id) for i in current if i.kind == InviteeKind.PERSON
        ]
        chosen = _chosen_people(ids)
        quotas = {str(i.agency_id): str(i.quota) for i in current if i.kind == InviteeKind.AGENCY}
    q, people = _people_found(request)
    agencies = [
        (a, a.pk in _selected(form, "agencies"), quotas.get(str(a.pk), "0"))
        for a in form.fields["agencies"].queryset
    ]
    return render(
        request,
        "meetings/meeting_invitees.html",
        {
            "page_title": "参会对象",
            "meeting": meeting,
            "form": form,
            "chosen": chosen,
            "q": q,
            "people": people,
            "agency_rows": agencies,
            "agencies_open": any(checked for _a, checked, _q in agencies),
            "departments_chosen": _selected(form, "departments"),
            "noticed": meeting.status != MeetingStatus.DRAFT,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _selected(form: InviteesForm, name: str) -> set[int]:
    values = form.data.getlist(name) if form.is_bound else form.initial.get(name, [])
    return {int(v) for v in values if str(v).isdigit() and len(str(v)) < 12}


# --- the meeting page -------------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest, meeting: Meeting, reply_form: ReplyForm | None = None
) -> dict[str, Any]:
    user = request.user
    rsvp = access.rsvp_of(user, meeting)
    can_manage = access.can_manage_meeting(user, meeting)
    context: dict[str, Any] = {
        "page_title": meeting.title,
        "meeting": meeting,
        "can_manage": can_manage,
        "rsvp": rsvp,
        "user": user,
        "when": services.when_text(meeting),
        "where": services.where_text(meeting),
        "open": meeting.status in (MeetingStatus.NOTICED, MeetingStatus.LIVE)
        and meeting.ends_at > timezone.now(),
    }
    if rsvp is not None:
        context["delegate_rsvp"] = Rsvp.objects.filter(delegated_from=rsvp).select_related("user").first()
        context["reply_form"] = reply_form or ReplyForm(
            user=user, initial={"reply": rsvp.reply or None, "reason": rsvp.reason}
        )
    if can_manage:
        context.update(
            stats=stats_for(meeting),
            silent=silent_people(meeting),
            silent_limit=SILENT_LIST_LIMIT,
            invitees=list(
                Invitee.objects.filter(meeting=meeting).select_related("user", "department", "agency")
            ),
            cancel_form=CancelForm(),
        )
    context["my_choices"] = [inv for inv in access.pending_agency_invitations(user).filter(meeting=meeting)]
    return context


@require_GET
@login_required
def detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    return render(request, "meetings/meeting_detail.html", _detail_context(request, meeting))


@require_POST
@login_required
def reply(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    if access.rsvp_of(request.user, meeting) is None:
        raise Http404(NOT_FOUND_MESSAGE)
    form = ReplyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.reply(
                meeting,
                actor=request.user,
                reply=form.cleaned_data["reply"],
                reason=form.cleaned_data["reason"],
                delegate=form.cleaned_data["delegate"],
            )
        except MeetingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "回执已提交。")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(
        request, "meetings/meeting_detail.html", _detail_context(request, meeting, form), status=400
    )


def _action(request: HttpRequest, meeting_id: int, call: Any, done: Any) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    try:
        result = call(meeting)
    except MeetingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done(result))
    return redirect("meetings:detail", meeting_id=meeting.pk)


@require_POST
@login_required
def send_notice(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _action(
        request,
        meeting_id,
        lambda m: services.send_notice(m, actor=request.user),
        lambda n: f"会议通知已发出，已通知 {n} 人。",
    )


@require_POST
@login_required
def remind(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _action(
        request,
        meeting_id,
        lambda m: services.remind_silent(m, actor=request.user),
        lambda n: f"已提醒 {n} 位未回执人员。" if n else "没有需要提醒的人员：未回执的人都已提醒过。",
    )


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_meeting(meeting, actor=request.user, reason=form.cleaned_data["reason"])
        except MeetingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "会议已取消。")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(
        request,
        "meetings/meeting_cancel.html",
        {"page_title": "取消会议", "meeting": meeting, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


# --- the clerk's choice --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def choose(request: HttpRequest, invitee_id: int) -> HttpResponse:
    pk = access.parse_id(invitee_id)
    invitee = (
        Invitee.objects.select_related("meeting", "agency").filter(pk=pk).first() if pk is not None else None
    )
    if (
        invitee is None
        or not access.may_use_meetings(request.user)
        or not access.can_choose_for(request.user, invitee)
    ):
        raise Http404(NOT_FOUND_MESSAGE)
    meeting = invitee.meeting
    form = ChooseForm(request.POST or None, agency_id=invitee.agency_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.choose_attendees(invitee, actor=request.user, people=list(form.cleaned_data["members"]))
        except MeetingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "参会人员已报送。")
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(
        request,
        "meetings/meeting_choose.html",
        {
            "page_title": "报送参会人员",
            "meeting": meeting,
            "invitee": invitee,
            "form": form,
            "when": services.when_text(meeting),
            "where": services.where_text(meeting),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- statistics and export ------------------------------------------------------------------------------


@require_GET
@login_required
def stats(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    return render(
        request,
        "meetings/meeting_stats.html",
        {
            "page_title": f"回执统计 · {meeting.title}",
            "meeting": meeting,
            "stats": stats_for(meeting),
            "silent": silent_people(meeting),
            "silent_limit": SILENT_LIST_LIMIT,
            "rows": attendance_rows(meeting),
        },
    )


@require_GET
@login_required
def export_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _manageable(request, meeting_id)
    content = attendance_workbook(meeting)
    record_view(request, meeting, action="meetings.attendance.download")
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    from urllib.parse import quote

    name = filename_for(meeting)
    response["Content-Disposition"] = (
        f"attachment; filename=\"attendance.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response
