"""会议纪要 page: everyone who sees the meeting reads the 纪要 and its 议定事项; the organiser
writes them (POST action=save), sends the 纪要 into the 发文 flow (action=issue) and, when they
are also the agency's 督查员 or office, turns a decision into a 督办事项 (action=supervise)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from meetings import access, minutes
from meetings.errors import MeetingError
from meetings.minutes_forms import MinutesBodyForm, decision_formset, decision_inputs
from meetings.models import Decision, Meeting, Minutes


def _context(request: HttpRequest, meeting: Meeting, **extra: Any) -> dict[str, Any]:
    record = Minutes.objects.filter(meeting=meeting).select_related("document").first()
    decisions = (
        list(record.decisions.select_related("lead_department", "supervision_item").order_by("order"))
        if record
        else []
    )
    can_manage = access.can_manage_meeting(request.user, meeting)
    context: dict[str, Any] = {
        "page_title": f"会议纪要 · {meeting.title}",
        "meeting": meeting,
        "minutes": record,
        "decisions": decisions,
        "can_manage": can_manage,
        "can_supervise": access.can_supervise_decision(request.user, meeting),
        "editable": can_manage and (record is None or record.document_id is None),
        "error": "",
    }
    if context["editable"]:
        context["body_form"] = MinutesBodyForm(initial={"body": record.body if record else ""})
        context["decision_forms"] = decision_formset(meeting, record)
    context.update(extra)
    return context


def _page(request: HttpRequest, meeting: Meeting, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "meetings/minutes_page.html", _context(request, meeting, **extra), status=status)


@require_http_methods(["GET", "POST"])
@login_required
def minutes_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    if request.method == "GET":
        return _page(request, meeting)
    if not access.can_manage_meeting(request.user, meeting):
        raise PermissionDenied("只有会议组织者可以编写会议纪要。")
    action = request.POST.get("action", "")
    if action == "save":
        body_form = MinutesBodyForm(request.POST)
        formset = decision_formset(meeting, None, data=request.POST)
        kept = {"body_form": body_form, "decision_forms": formset}
        if not body_form.is_valid() or not formset.is_valid():
            return _page(request, meeting, status=400, error="请检查纪要填写的内容。", **kept)
        try:
            minutes.save_minutes(
                meeting,
                actor=request.user,
                body=body_form.cleaned_data["body"],
                decisions=decision_inputs(formset),
            )
        except MeetingError as exc:
            return _page(request, meeting, status=400, error=exc.message, **kept)
        messages.success(request, "纪要已保存。")
    elif action == "issue":
        try:
            document = minutes.issue_minutes(meeting, actor=request.user)
        except MeetingError as exc:
            return _page(request, meeting, status=400, error=exc.message)
        messages.success(request, f"已生成纪要发文稿“{document.title}”，请在发文流程中完善并提交审核。")
    elif action == "supervise":
        decision = Decision.objects.filter(
            minutes__meeting=meeting, pk=access.parse_id(request.POST.get("decision"))
        ).first()
        if decision is None:
            return _page(request, meeting, status=400, error="该议定事项已被删除，请刷新页面。")
        try:
            item = minutes.supervise_decision(decision, actor=request.user)
        except MeetingError as exc:
            return _page(request, meeting, status=400, error=exc.message)
        messages.success(request, f"已立项督办事项“{item.title}”。")
    else:
        return _page(request, meeting, status=400, error="无效的操作。")
    return redirect("meetings:minutes", meeting_id=meeting.pk)
