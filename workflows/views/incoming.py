"""The 收文 pages: the task page of every step (登记 … 归档, with 退回, 转办, 抢办, 指派承办人 and 拟文答复),
收文登记 by hand, the 收文登记簿 with its Excel export, and the 收文处理单. Thin: parse → access → one
service → render. The services are in workflows/incoming.py."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from viewflow.workflow.models import Task

from documents import access as documents_access
from documents.errors import DocumentError
from documents.models import IncomingRecord
from officeapp.access import dept_heads_of
from officeapp.audit.services import record_view
from workflows import access
from workflows.flows import INCOMING_STEP_LABELS
from workflows.forms import TransferForm
from workflows.incoming_forms import (
    AssignHandlerForm,
    IncomingFilterForm,
    IncomingStepForm,
    RegisterByHandForm,
    ReplyDraftForm,
)
from workflows.incoming_panels import FINISHED_STATES, current_deadline, is_overdue
from workflows.incoming_sheet import SHEET_TITLE, incoming_sheet, sheet_docx
from workflows.models import CommonOpinion, Decision, IncomingProcess, Opinion

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _office_agency(user: Any) -> int:
    """The agency whose 收文 the person registers and keeps: their own, if they are its office."""
    agency_id = getattr(getattr(user, "department", None), "agency_id", None)
    if agency_id is None or not access.runs_incoming(user, agency_id):
        raise PermissionDenied("只有本机关的收发员、文秘或办公室主任可以登记和查看收文。")
    return agency_id


# --- the task page ------------------------------------------------------------------------------


def _unit(task: Task) -> dict[str, Any]:
    return (task.data or {}).get("unit") or {}


def _task_context(request: HttpRequest, task: Task, **extra: Any) -> dict[str, Any]:
    process: IncomingProcess = task.incoming  # type: ignore[attr-defined]
    document = process.document
    step = task.flow_task.name
    user = request.user
    can_act = access.can_act_incoming(user, task)
    unit = _unit(task)
    opinions = list(Opinion.objects.filter(document=document).select_related("author", "on_behalf_of"))
    deadline = current_deadline(document)
    context: dict[str, Any] = {
        "task": task,
        "process": process,
        "document": document,
        "incoming": document.incoming,
        "step": step,
        "step_label": INCOMING_STEP_LABELS.get(step, step),
        "unit": unit,
        "can_act": can_act,
        "can_claim": access.can_claim(user, task),
        "can_manage": access.can_manage_incoming(user, process),
        "can_transfer": can_act or access.can_manage_incoming(user, process),
        "deadline": deadline,
        "overdue": is_overdue(document, deadline),
        "attachments": document.attachments.filter(removed_at__isnull=True).order_by("order", "pk"),
        "opinions": opinions,
        "instructions": [o for o in opinions if o.step == "instruct"],
        # 协办 units report to the 主办: the lead unit's handler sees what the others wrote.
        "co_reports": [
            o for o in opinions if o.step == "handle" and unit.get("role") == "lead" and o.task_id != task.pk
        ],
        "common_opinions": CommonOpinion.objects.filter(user=user),
        "replies": document.replies.order_by("pk"),
    }
    if can_act:
        context.setdefault("form", IncomingStepForm(step=step, document=document, process=process))
        if step == "handle" and unit.get("id") and dept_heads_of(int(unit["id"])).filter(pk=user.pk).exists():
            context.setdefault("handler_form", AssignHandlerForm(unit_id=int(unit["id"]), exclude=user.pk))
        if step in ("handle", "reply"):
            context.setdefault(
                "reply_form",
                ReplyDraftForm(initial={"reply_title": f"关于{document.title.removeprefix('关于')}的复函"}),
            )
    context.update(extra)
    return context


def _render_task(request: HttpRequest, task: Task, status: int = 200, **extra: Any) -> HttpResponse:
    return render(
        request, "workflows/incoming/task.html", _task_context(request, task, **extra), status=status
    )


def _step_input(form: IncomingStepForm) -> Any:
    from workflows.incoming import IncomingStepInput

    data = form.cleaned_data
    values: dict[str, Any] = {
        "decision": data["decision"],
        "opinion": data.get("opinion") or "",
        "return_to": data.get("return_to") or "",
        "signature": data.get("signature"),
        "registration": form.registration(),
        "return_reason": data.get("return_reason") or "",
        "return_note": data.get("return_note") or "",
        "handling_kind": data.get("handling_kind") or "",
        "leader": data.get("leader"),
        "lead_unit": data.get("lead_unit"),
        "co_units": list(data.get("co_units") or []),
        "deadline": data.get("deadline"),
        "readers": list(data.get("readers") or []),
        "in_order": bool(data.get("in_order")),
        "result": data.get("result") or "",
        "retention": data.get("retention") or "",
    }
    return IncomingStepInput(**values)


@login_required
@require_http_methods(["GET", "POST"])
def incoming_task(request: HttpRequest, incoming_task_id: int) -> HttpResponse:
    """One page per 收文 task: 登记 facts, the received files, opinions, and the step's form."""
    task = access.get_incoming_task_for(request.user, incoming_task_id)
    if request.method == "GET":
        record_view(request, task.incoming.document, action="documents.viewed")  # type: ignore[attr-defined]
        return _render_task(request, task)
    from workflows import incoming

    action = request.POST.get("action", "complete")
    step = task.flow_task.name
    process: IncomingProcess = task.incoming  # type: ignore[attr-defined]
    if action == "claim":
        try:
            incoming.claim_incoming(task, actor=request.user)
        except DocumentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已签收办理，该任务由您办理。")
        return redirect("workflows:incoming_task", incoming_task_id=task.pk)
    if action == "assign_handler":
        unit = _unit(task)
        handler_form = AssignHandlerForm(request.POST, unit_id=unit.get("id"), exclude=request.user.pk)
        if not handler_form.is_valid():
            return _render_task(request, task, status=400, handler_form=handler_form)
        try:
            incoming.assign_handler(task, actor=request.user, handler=handler_form.cleaned_data["handler"])
        except DocumentError as exc:
            return _render_task(request, task, status=400, handler_form=handler_form, error=exc.message)
        messages.success(request, f"已指派{handler_form.cleaned_data['handler'].real_name}承办。")
        return redirect("documents:detail", document_id=process.document_id)
    if action == "start_reply":
        reply_form = ReplyDraftForm(request.POST)
        if not reply_form.is_valid():
            return _render_task(request, task, status=400, reply_form=reply_form)
        try:
            draft = incoming.start_reply(
                task,
                actor=request.user,
                doc_type=reply_form.cleaned_data["doc_type"],
                title=reply_form.cleaned_data["reply_title"],
            )
        except DocumentError as exc:
            return _render_task(request, task, status=400, reply_form=reply_form, error=exc.message)
        messages.success(request, "答复稿已创建，请拟写正文。")
        draft_task = (
            Task.objects.filter(
                process__outgoingprocess__document=draft, status__in=access.OPEN, flow_task_type="HUMAN"
            )
            .order_by("-pk")
            .first()
        )
        if draft_task is not None:
            return redirect("workflows:task", task_id=draft_task.pk)
        return redirect("documents:detail", document_id=draft.pk)
    form = IncomingStepForm(request.POST, step=step, document=process.document, process=process)
    if not form.is_valid():
        return _render_task(request, task, status=400, form=form)
    try:
        incoming.complete_incoming_step(task, actor=request.user, step_input=_step_input(form))
    except DocumentError as exc:
        return _render_task(request, task, status=400, form=form, error=exc.message)
    decision = form.cleaned_data["decision"]
    label = {Decision.SEND_BACK: "已退文", Decision.RETURN: "已退回", Decision.NOT_OURS: "已退回分办"}.get(
        decision, f"已办理：{INCOMING_STEP_LABELS.get(step, step)}"
    )
    messages.success(request, f"{label}。")
    return redirect("workflows:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def incoming_transfer(request: HttpRequest, incoming_task_id: int) -> HttpResponse:
    """转办 a 收文 task to a colleague of the same agency (the holder, or the office for any task)."""
    task = access.get_incoming_task_for(request.user, incoming_task_id)
    process = task.incoming  # type: ignore[attr-defined]
    if not (access.can_act_incoming(request.user, task) or access.can_manage_incoming(request.user, process)):
        raise PermissionDenied("只有当前办理人或办公室可以转办。")
    form = TransferForm(request.POST or None, agency_id=process.document.agency_id, exclude=task.owner_id)
    error = ""
    if request.method == "POST" and form.is_valid():
        from workflows.incoming import transfer_incoming

        try:
            transfer_incoming(
                task,
                actor=request.user,
                to_user=form.cleaned_data["to_user"],
                reason=form.cleaned_data["reason"],
            )
        except DocumentError as exc:
            error = exc.message
        else:
            messages.success(request, f"已转{form.cleaned_data['to_user'].real_name}办理。")
            return redirect("documents:detail", document_id=process.document_id)
    return render(
        request,
        "workflows/incoming/transfer.html",
        {"form": form, "task": task, "error": error},
        status=400 if error or (request.method == "POST" and not form.is_valid()) else 200,
    )


# --- 收文登记 by hand ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def incoming_new(request: HttpRequest) -> HttpResponse:
    """收文登记 by hand: a paper document or one from an outside system (scanned file + facts)."""
    _office_agency(request.user)
    form = RegisterByHandForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return render(request, "workflows/incoming/new.html", {"form": form})
    if not form.is_valid():
        return render(request, "workflows/incoming/new.html", {"form": form}, status=400)
    from officeapp.blobs.checks import UploadRefused
    from officeapp.blobs.services import BlobStoreUnavailable
    from workflows.incoming import register_by_hand

    data = form.cleaned_data
    try:
        document = register_by_hand(
            actor=request.user,
            title=data["title"],
            doc_type=data["doc_type"],
            source_agency=data["source_agency"],
            source_name=data["source_name"],
            source_number=data["source_number"],
            urgency=data["urgency"],
            issued_on=data["issued_on"],
            received_on=data["received_on"],
            copies=data["copies"],
            deadline=data["deadline"],
            scanned_file=data["scanned_file"],
            attachments=tuple(data["attachments"]),
        )
    except (UploadRefused, BlobStoreUnavailable) as exc:
        form.add_error(None, str(exc))
        return render(request, "workflows/incoming/new.html", {"form": form}, status=400)
    except DocumentError as exc:
        return render(
            request, "workflows/incoming/new.html", {"form": form, "error": exc.message}, status=400
        )
    messages.success(request, "收文已登记，请核对登记信息后提交初审。")
    task = (
        Task.objects.filter(
            process__incomingprocess__document=document, status__in=access.OPEN, flow_task_type="HUMAN"
        )
        .order_by("-pk")
        .first()
    )
    if task is not None and access.can_act_incoming(request.user, task):
        return redirect("workflows:incoming_task", incoming_task_id=task.pk)
    return redirect("documents:detail", document_id=document.pk)


# --- 收文登记簿 -----------------------------------------------------------------------------------


def _register_rows(
    request: HttpRequest, agency_id: int
) -> tuple[QuerySet[IncomingRecord], IncomingFilterForm]:
    form = IncomingFilterForm(request.GET or None)
    records = (
        IncomingRecord.objects.filter(agency_id=agency_id)
        .select_related("document", "document__incoming_process")
        .annotate(due_on=Coalesce(F("document__incoming_process__deadline"), F("document__deadline")))
        .order_by("-received_on", "-pk")
    )
    if form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        if data["state"] == "overdue":
            records = records.filter(due_on__lt=today).exclude(document__state__in=FINISHED_STATES)
        elif data["state"]:
            records = records.filter(document__state=data["state"])
        if data["year"]:
            records = records.filter(received_on__year=data["year"])
        if data["urgency"]:
            records = records.filter(document__urgency=data["urgency"])
        if data["source"]:
            records = records.filter(source_name__icontains=data["source"].strip())
        if data["q"]:
            q = data["q"].strip()
            records = records.filter(
                Q(document__title__icontains=q) | Q(number__icontains=q) | Q(source_number__icontains=q)
            )
    return records, form


def _mark_overdue(records: Any) -> list[Any]:
    rows = list(records)
    for r in rows:
        r.overdue = is_overdue(r.document, r.due_on)
    return rows


@login_required
@require_GET
def incoming_list(request: HttpRequest) -> HttpResponse:
    """收文登记簿: the agency's 收文, newest first, filtered and searched, overdue ones marked."""
    agency_id = _office_agency(request.user)
    records, form = _register_rows(request, agency_id)
    page = Paginator(records, 20).get_page(request.GET.get("page"))
    page.object_list = _mark_overdue(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "workflows/incoming/list.html",
        {"page_obj": page, "form": form, "query": query.urlencode()},
    )


def _text_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: never a formula, whatever a title starts with
    return cell


# An export is built in memory in one request: beyond this many rows the clerk filters further.
EXPORT_MAX_ROWS = 10_000


@login_required
@require_GET
def incoming_export(request: HttpRequest) -> HttpResponse:
    """The 登记簿 as filtered, as .xlsx."""
    agency_id = _office_agency(request.user)
    records, _ = _register_rows(request, agency_id)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("收文登记簿")
    header = [
        "收文号",
        "收文日期",
        "来文单位",
        "来文字号",
        "标题",
        "紧急程度",
        "份数",
        "办理时限",
        "状态",
        "超期",
    ]
    sheet.append([_text_cell(sheet, h) for h in header])
    rows = _mark_overdue(records[: EXPORT_MAX_ROWS + 1])
    for r in rows[:EXPORT_MAX_ROWS]:
        row = [
            r.number,
            r.received_on.isoformat(),
            r.source_name,
            r.source_number,
            r.document.title,
            r.document.get_urgency_display(),
            str(r.copies),
            r.due_on.isoformat() if r.due_on else "",
            r.document.get_state_display(),
            "超期" if r.overdue else "",
        ]
        sheet.append([_text_cell(sheet, v) for v in row])
    if len(rows) > EXPORT_MAX_ROWS:
        # Said in the file itself, never cut silently: the clerk narrows the filter and exports again.
        sheet.append(
            [
                _text_cell(
                    sheet, f"仅导出前 {EXPORT_MAX_ROWS:,} 条，请缩小筛选范围（如按收文日期）后分批导出。"
                )
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"收文登记簿-{stamp}.xlsx")
    return response


# --- 收文处理单 -----------------------------------------------------------------------------------


@login_required
@require_GET
def incoming_sheet_page(request: HttpRequest, incoming_document_id: int) -> HttpResponse:
    """收文处理单: printable HTML, or .docx with ?format=docx."""
    document = documents_access.get_document_for(request.user, incoming_document_id)
    if not hasattr(document, "incoming"):
        from django.http import Http404

        raise Http404("该公文不是收文。")
    if request.GET.get("format") == "docx":
        content = sheet_docx(document)
        record_view(request, document, action="documents.sheet_downloaded")
        response = HttpResponse(content, content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(True, f"{SHEET_TITLE}.docx")
        return response
    return render(
        request, "workflows/incoming/sheet.html", {"document": document, "sheet": incoming_sheet(document)}
    )


urlpatterns = [
    path("incoming/", incoming_list, name="incoming_list"),
    path("incoming/export.xlsx", incoming_export, name="incoming_export"),
    path("incoming/new/", incoming_new, name="incoming_new"),
    path("incoming/tasks/<int:incoming_task_id>/", incoming_task, name="incoming_task"),
    path("incoming/tasks/<int:incoming_task_id>/transfer/", incoming_transfer, name="incoming_transfer"),
    path("incoming/documents/<int:incoming_document_id>/sheet/", incoming_sheet_page, name="incoming_sheet"),
]
