"""The 督办 pages: 立项, the list of items one may see, the item page (facts, light, history, reports,
extensions), the task page of every step (登记编号 … 归档, with 退回, 转办, 抢办), 进展反馈 / 办结报告
with the unit head's 审签, 延期申请 with 初审 and 审批, and the 督办通知单. Thin: parse → access → one
service → render. The services are in workflows/supervision.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from viewflow.workflow.models import Task

from documents.errors import DocumentError
from officeapp.access import NOT_FOUND_MESSAGE
from workflows import access
from workflows.flows import SUPERVISION_STEP_LABELS
from workflows.forms import TransferForm
from workflows.models import (
    OPEN_ITEM_STATES,
    CommonOpinion,
    Decision,
    ExtensionRequest,
    ExtensionState,
    Opinion,
    ProgressReport,
    ReportAttachment,
    ReportState,
    SupervisionItem,
    SupervisionUnit,
)

# 进展反馈 may be written while 承办 runs and while its 办结报告 is being reviewed: the service's rule.
from workflows.supervision import REPORTING_STATES
from workflows.supervision_forms import (
    ExtensionDecisionForm,
    ExtensionForm,
    ItemForm,
    ReportForm,
    SupervisionFilterForm,
    SupervisionStepForm,
)
from workflows.supervision_notice import NOTICE_TITLE, notice_docx, supervision_notice
from workflows.supervision_sources import source_link

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 20


def _supervising_agency(user: Any) -> int:
    """The agency whose 督办 the person runs: their own, if they are its 督查员 or office."""
    agencies = access.supervising_agencies(user)
    if not agencies:
        raise PermissionDenied("只有督查员或办公室可以立项督办事项。")
    own = getattr(getattr(user, "department", None), "agency_id", None)
    return own if own in agencies else agencies[0]


def _open_tasks(item: SupervisionItem) -> QuerySet[Task]:
    return (
        Task.objects.filter(
            process__supervisionprocess__item=item, status__in=access.OPEN, flow_task_type="HUMAN"
        )
        .select_related("owner")
        .order_by("pk")
    )


def _my_task(user: Any, item: SupervisionItem, step: str | None = None) -> Task | None:
    for task in _open_tasks(item):
        if (step is None or task.flow_task.name == step) and access.can_act_supervision(user, task):
            return task
    return None


def _may_sign_off(user: Any, report: ProgressReport) -> bool:
    """The unit's head, while the report waits for 审签 (the service decides again)."""
    from workflows.supervision import is_unit_head

    return report.state == ReportState.DRAFT and is_unit_head(user, report)


def _is_responsible_leader(user: Any, item: SupervisionItem) -> bool:
    """Who decides a 延期申请: the instructing leader, else the 分管 leader (or his 督办 delegate)."""
    from workflows.supervision import may_decide_extension

    return may_decide_extension(user, item)


def _history(item: SupervisionItem) -> list[Any]:
    from workflows.supervision import item_history

    return list(item_history(item))


# --- the list ---------------------------------------------------------------------------------------


def _filtered_items(request: HttpRequest) -> tuple[QuerySet[SupervisionItem], SupervisionFilterForm]:
    form = SupervisionFilterForm(request.GET or None)
    items = access.visible_items(request.user).select_related("lead_department", "lead_agency")
    if form.is_valid():
        data = form.cleaned_data
        if data["state"] == "open":
            items = items.filter(state__in=OPEN_ITEM_STATES)
        elif data["state"]:
            items = items.filter(state=data["state"])
        for name in ("light", "source", "importance"):
            if data[name]:
                items = items.filter(**{name: data[name]})
        if data["unit"]:
            unit = data["unit"].strip()
            items = items.filter(
                pk__in=SupervisionUnit.objects.filter(
                    Q(department__name__icontains=unit) | Q(agency__name__icontains=unit)
                ).values("item_id")
            )
        if data["start"]:
            items = items.filter(created_at__date__gte=data["start"])
        if data["end"]:
            items = items.filter(created_at__date__lte=data["end"])
        if data["q"]:
            q = data["q"].strip()
            items = items.filter(Q(title__icontains=q) | Q(number__icontains=q))
    return items.order_by("-created_at", "-pk"), form


@login_required
@require_GET
def supervision_list(request: HttpRequest) -> HttpResponse:
    """督办事项: what the person may see, newest first, filtered, with each item's light."""
    items, form = _filtered_items(request)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "workflows/supervision/item_list.html",
        {
            "page_obj": page,
            "form": form,
            "query": query.urlencode(),
            "can_initiate": bool(access.supervising_agencies(request.user)),
        },
    )


# --- 立项 -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def supervision_new(request: HttpRequest) -> HttpResponse:
    """立项: a 督查员 or the office registers an item from a 批示, a document, a meeting …"""
    agency_id = _supervising_agency(request.user)
    initial: dict[str, Any] = {}
    # A hand-edited link (?document=abc) fills in nothing rather than failing.
    if request.method == "GET" and request.GET.get("document", "").isdigit():
        from documents.access import visible_documents

        document = visible_documents(request.user).filter(pk=request.GET["document"]).first()
        if document is not None:
            initial = {"source": "document", "source_document": document.doc_number or document.title}
    form = ItemForm(request.POST or None, user=request.user, agency_id=agency_id, initial=initial or None)
    if request.method != "POST":
        return render(request, "workflows/supervision/item_new.html", {"form": form})
    if not form.is_valid():
        return render(request, "workflows/supervision/item_new.html", {"form": form}, status=400)
    from officeapp.org.models import Agency
    from workflows.supervision import initiate

    data = form.cleaned_data
    try:
        item = initiate(
            actor=request.user,
            agency=Agency.objects.get(pk=agency_id),
            source=data["source"],
            title=data["title"],
            requirement=data["requirement"],
            instruction=data["instruction"],
            source_object=data["source_object"],
            source_label=data["source_label"],
            lead_unit=data["lead_unit_obj"],
            co_units=data["co_units_obj"],
            received_on=data["received_on"],
            due_on=data["due_on"],
            due_in_working_days=data["due_in_working_days"],
            report_frequency=data["report_frequency"],
            report_interval_days=data["report_interval_days"],
            importance=data["importance"],
            leader=data["leader"],
        )
    except DocumentError as exc:
        return render(
            request, "workflows/supervision/item_new.html", {"form": form, "error": exc.message}, status=400
        )
    messages.success(request, "督办事项已立项，请确认登记编号。")
    task = _my_task(request.user, item, "register")
    if task is not None:
        return redirect("workflows:supervision_task", supervision_task_id=task.pk)
    return redirect("workflows:supervision_item", item_id=item.pk)


# --- the item page ----------------------------------------------------------------------------------


def _item_context(request: HttpRequest, item: SupervisionItem, **extra: Any) -> dict[str, Any]:
    user = request.user
    reports = list(
        item.reports.select_related("author", "signed_off_by", "department", "agency")
        .prefetch_related("attachments")
        .order_by("-created_at", "-pk")
    )
    for report in reports:
        report.may_sign_off = _may_sign_off(user, report)  # type: ignore[attr-defined]
    extensions = list(item.extensions.select_related("requested_by", "screened_by", "decided_by"))
    supervises = access.can_supervise(user, item.agency_id)
    responsible = _is_responsible_leader(user, item)
    for ext in extensions:
        ext.may_screen = supervises and ext.state == ExtensionState.SUBMITTED  # type: ignore[attr-defined]
        ext.may_decide = responsible and ext.state == ExtensionState.SCREENED  # type: ignore[attr-defined]
    tasks = list(_open_tasks(item))
    for task in tasks:
        task.step_label = SUPERVISION_STEP_LABELS.get(task.flow_task.name, task.flow_task.name)  # type: ignore[attr-defined]
        task.mine = access.can_act_supervision(user, task)  # type: ignore[attr-defined]
    is_open = item.state in OPEN_ITEM_STATES
    unit_person = access.can_report_on(user, item)
    open_extension = any(e.state in (ExtensionState.SUBMITTED, ExtensionState.SCREENED) for e in extensions)
    context: dict[str, Any] = {
        "item": item,
        "units": item.units.select_related("department", "agency").order_by("-is_lead", "pk"),
        "children": item.children.order_by("pk"),
        "history": _history(item),
        "reports": reports,
        "extensions": extensions,
        "tasks": tasks,
        "source": source_link(item, user),
        "can_report": unit_person and item.state in REPORTING_STATES,
        "can_extend": unit_person and is_open and bool(item.due_on) and not open_extension,
        "screen_form": ExtensionDecisionForm(stage="screen"),
        "decide_form": ExtensionDecisionForm(stage="decide"),
    }
    context.update(extra)
    return context


def _render_item(
    request: HttpRequest, item: SupervisionItem, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request, "workflows/supervision/item.html", _item_context(request, item, **extra), status=status
    )


@login_required
@require_GET
def supervision_item(request: HttpRequest, item_id: int) -> HttpResponse:
    """One item: facts, light and why, progress, units, sub-items, history, reports, extensions."""
    item = access.get_item_for(request.user, item_id)
    return _render_item(request, item)


# --- the task page ----------------------------------------------------------------------------------


def _task_context(request: HttpRequest, task: Task, **extra: Any) -> dict[str, Any]:
    process = task.supervision  # type: ignore[attr-defined]
    item: SupervisionItem = process.item
    step = task.flow_task.name
    user = request.user
    can_act = access.can_act_supervision(user, task)
    supervises = access.can_supervise(user, item.agency_id)
    drafts = []
    if step == "handle":
        drafts = [
            r
            for r in item.reports.filter(state=ReportState.DRAFT).select_related("author").order_by("pk")
            if _may_sign_off(user, r)
        ]
    context: dict[str, Any] = {
        "task": task,
        "process": process,
        "item": item,
        "step": step,
        "step_label": SUPERVISION_STEP_LABELS.get(step, step),
        "unit": (task.data or {}).get("unit") or {},
        "can_act": can_act,
        "can_claim": access.can_claim(user, task),
        "can_transfer": can_act or supervises,
        "opinions": Opinion.objects.filter(item=item)
        .select_related("author", "on_behalf_of")
        .order_by("created_at", "pk"),
        "common_opinions": CommonOpinion.objects.filter(user=user),
        "source": source_link(item, user),
        "notice": supervision_notice(item) if step in ("propose", "approve", "assign", "accept") else None,
        "drafts": drafts,
    }
    if can_act and step != "handle":
        context.setdefault("form", SupervisionStepForm(step=step, item=item))
    if can_act and step == "handle":
        context.setdefault("report_form", ReportForm())
    context.update(extra)
    return context


def _render_task(request: HttpRequest, task: Task, status: int = 200, **extra: Any) -> HttpResponse:
    return render(
        request, "workflows/supervision/item_task.html", _task_context(request, task, **extra), status=status
    )


def _step_input(form: SupervisionStepForm) -> Any:
    from workflows.supervision import SupervisionStepInput

    data = form.cleaned_data
    return SupervisionStepInput(
        decision=data["decision"],
        opinion=data.get("opinion") or "",
        return_to=data.get("return_to") or "",
        signature=data.get("signature"),
        changes=form.changes(),
        instruction=(data.get("instruction") or "").strip(),
        retention=data.get("retention") or "",
    )


STEP_DONE = {
    Decision.RETURN: "已退回",
    Decision.NOT_OURS: "已退回（非本单位职责）",
    Decision.DISAGREE: "已退办重办",
}


@login_required
@require_http_methods(["GET", "POST"])
def supervision_task(request: HttpRequest, supervision_task_id: int) -> HttpResponse:
    """One page per 督办 task: the item's facts, opinions so far, and the step's form."""
    task = access.get_supervision_task_for(request.user, supervision_task_id)
    if request.method == "GET":
        return _render_task(request, task)
    from workflows import supervision

    item = task.supervision.item  # type: ignore[attr-defined]
    action = request.POST.get("action", "complete")
    step = task.flow_task.name
    if action == "claim":
        try:
            supervision.claim_supervision(task, actor=request.user)
        except DocumentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已签收办理，该任务由您办理。")
        return redirect("workflows:supervision_task", supervision_task_id=task.pk)
    if step == "handle":
        return _render_task(request, task, status=400, error="承办环节请填写进展反馈或办结报告。")
    form = SupervisionStepForm(request.POST, step=step, item=item)
    if not form.is_valid():
        return _render_task(request, task, status=400, form=form)
    try:
        supervision.complete_supervision_step(task, actor=request.user, step_input=_step_input(form))
    except DocumentError as exc:
        return _render_task(request, task, status=400, form=form, error=exc.message)
    decision = form.cleaned_data["decision"]
    if step == "register":
        item.refresh_from_db()
        messages.success(request, f"已登记，督办编号：{item.number}。")
    else:
        label = STEP_DONE.get(decision, f"已办理：{SUPERVISION_STEP_LABELS.get(step, step)}")
        messages.success(request, f"{label}。")
    return redirect("workflows:supervision_item", item_id=item.pk)


@login_required
@require_http_methods(["GET", "POST"])
def supervision_transfer(request: HttpRequest, supervision_task_id: int) -> HttpResponse:
    """转办 a 督办 task to a colleague of the same agency (the holder, or the 督查室 for any task)."""
    task = access.get_supervision_task_for(request.user, supervision_task_id)
    item = task.supervision.item  # type: ignore[attr-defined]
    if not (
        access.can_act_supervision(request.user, task) or access.can_supervise(request.user, item.agency_id)
    ):
        raise PermissionDenied("只有当前办理人或督查室可以转办。")
    holder = task.owner or request.user
    agency_id = getattr(getattr(holder, "department", None), "agency_id", None) or item.agency_id
    form = TransferForm(request.POST or None, agency_id=agency_id, exclude=task.owner_id)
    error = ""
    if request.method == "POST" and form.is_valid():
        from workflows.supervision import transfer_supervision

        try:
            transfer_supervision(
                task,
                actor=request.user,
                to_user=form.cleaned_data["to_user"],
                reason=form.cleaned_data["reason"],
            )
        except DocumentError as exc:
            error = exc.message
        else:
            messages.success(request, f"已转{form.cleaned_data['to_user'].real_name}办理。")
            return redirect("workflows:supervision_item", item_id=item.pk)
    return render(
        request,
        "workflows/supervision/item_transfer.html",
        {"form": form, "task": task, "item": item, "error": error},
        status=400 if error or (request.method == "POST" and not form.is_valid()) else 200,
    )


# --- 进展反馈 / 办结报告 -------------------------------------------------------------------------------


def _render_report(
    request: HttpRequest, item: SupervisionItem, form: ReportForm, status: int = 200, error: str = ""
) -> HttpResponse:
    return render(
        request,
        "workflows/supervision/item_report.html",
        {"item": item, "form": form, "error": error},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def supervision_report(request: HttpRequest, item_id: int) -> HttpResponse:
    """Write a 进展反馈 or the 办结报告 (a person of a unit of the item, during 承办)."""
    item = access.get_item_for(request.user, item_id)
    if not access.can_report_on(request.user, item):
        raise PermissionDenied("只有承办单位的人员可以填报进展。")
    if request.method == "GET":
        return _render_report(request, item, ReportForm())
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_report(request, item, form, status=400)
    from officeapp.blobs.backends import BlobStoreUnavailable
    from officeapp.blobs.checks import UploadRefused
    from workflows.supervision import write_report

    data = form.cleaned_data
    try:
        report = write_report(
            item,
            actor=request.user,
            kind=data["kind"],
            text=data["text"],
            percentage=data["percentage"],
            files=tuple(data["files"]),
        )
    except (UploadRefused, BlobStoreUnavailable) as exc:
        return _render_report(request, item, form, status=400, error=str(getattr(exc, "message", exc)))
    except DocumentError as exc:
        return _render_report(request, item, form, status=400, error=exc.message)
    if report.state == ReportState.DRAFT:
        messages.success(request, f"{report.get_kind_display()}已保存，待单位负责人审签后报送。")
    else:
        messages.success(request, f"{report.get_kind_display()}已报送。")
    return redirect("workflows:supervision_item", item_id=item.pk)


def _get_report_for(user: Any, report_id: Any) -> ProgressReport:
    try:
        report = ProgressReport.objects.select_related("item").get(pk=int(report_id))
    except (ProgressReport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not access.visible_items(user).filter(pk=report.item_id).exists():
        raise Http404(NOT_FOUND_MESSAGE)
    return report


@login_required
@require_POST
def supervision_report_sign_off(request: HttpRequest, report_id: int) -> HttpResponse:
    """审签: the unit head sends the unit's draft report on (a signed 办结报告 ends 承办)."""
    report = _get_report_for(request.user, report_id)
    from workflows.supervision import sign_off_report

    try:
        sign_off_report(report, actor=request.user)
    except DocumentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{report.get_kind_display()}已审签报送。")
    return redirect("workflows:supervision_item", item_id=report.item_id)


# --- 延期申请 -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def supervision_extension(request: HttpRequest, item_id: int) -> HttpResponse:
    """延期申请 by a unit of the item: reason, progress, the new date."""
    item = access.get_item_for(request.user, item_id)
    if not access.can_report_on(request.user, item):
        raise PermissionDenied("只有承办单位的人员可以申请延期。")
    form = ExtensionForm(request.POST or None, item=item)
    template = "workflows/supervision/item_extension.html"
    if request.method != "POST":
        return render(request, template, {"item": item, "form": form})
    if not form.is_valid():
        return render(request, template, {"item": item, "form": form}, status=400)
    from workflows.supervision import request_extension

    data = form.cleaned_data
    try:
        request_extension(
            item,
            actor=request.user,
            reason=data["reason"],
            progress=data["progress"],
            new_due_on=data["new_due_on"],
        )
    except DocumentError as exc:
        return render(request, template, {"item": item, "form": form, "error": exc.message}, status=400)
    messages.success(request, "延期申请已提交，待督查室初审。")
    return redirect("workflows:supervision_item", item_id=item.pk)


def _get_extension_for(user: Any, extension_id: Any) -> ExtensionRequest:
    try:
        extension = ExtensionRequest.objects.select_related("item").get(pk=int(extension_id))
    except (ExtensionRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    if not access.visible_items(user).filter(pk=extension.item_id).exists():
        raise Http404(NOT_FOUND_MESSAGE)
    return extension


def _decide_extension_page(request: HttpRequest, extension_id: int, *, stage: str) -> HttpResponse:
    extension = _get_extension_for(request.user, extension_id)
    item = access.get_item_for(request.user, extension.item_id)
    form = ExtensionDecisionForm(request.POST, stage=stage)
    form_key = "screen_form" if stage == "screen" else "decide_form"
    if not form.is_valid():
        return _render_item(request, item, status=400, **{form_key: form})
    from workflows import supervision

    verdict, note = form.cleaned_data["verdict"], form.cleaned_data["note"]
    try:
        if stage == "screen":
            supervision.screen_extension(extension, actor=request.user, forward=verdict, note=note)
        else:
            supervision.decide_extension(extension, actor=request.user, approve=verdict, note=note)
    except DocumentError as exc:
        return _render_item(request, item, status=400, error=exc.message, **{form_key: form})
    if stage == "screen":
        messages.success(request, "已报领导审批。" if verdict else "已不予转报。")
    else:
        messages.success(request, "已批准延期。" if verdict else "未批准延期。")
    return redirect("workflows:supervision_item", item_id=item.pk)


@login_required
@require_POST
def supervision_extension_screen(request: HttpRequest, extension_id: int) -> HttpResponse:
    """初审 of a 延期申请 by the 督查室: forward it to the leader or stop it with a reason."""
    return _decide_extension_page(request, extension_id, stage="screen")


@login_required
@require_POST
def supervision_extension_decide(request: HttpRequest, extension_id: int) -> HttpResponse:
    """审批 of a 延期申请 by the responsible leader: the approved date replaces the old one."""
    return _decide_extension_page(request, extension_id, stage="decide")


# --- 督办通知单 ---------------------------------------------------------------------------------------


@login_required
@require_GET
def supervision_notice_page(request: HttpRequest, item_id: int) -> HttpResponse:
    """督办通知单: printable HTML, or .docx with ?format=docx."""
    item = access.get_item_for(request.user, item_id)
    if request.GET.get("format") == "docx":
        response = HttpResponse(notice_docx(item), content_type=DOCX)
        name = f"{NOTICE_TITLE}-{item.number}.docx" if item.number else f"{NOTICE_TITLE}.docx"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    return render(
        request, "workflows/supervision/notice.html", {"item": item, "notice": supervision_notice(item)}
    )


# --- files of reports: downloads through the blob store ----------------------------------------------


class SupervisionFilesReferrer:
    """Report attachments and the handwritten signatures under 督办 opinions: readable by whoever
    may see the item (registered in workflows/apps.py)."""

    name = "workflows.supervision_files"

    def can_read(self, user: Any, blob: Any) -> bool:
        items = access.visible_items(user)
        via_report = ReportAttachment.objects.filter(blob=blob, report__item__in=items).exists()
        return via_report or Opinion.objects.filter(signature=blob, item__in=items).exists()

    def referenced_blob_ids(self) -> Any:
        from officeapp.blobs.models import Blob

        # One queryset (no UNION), so the retention job can use it as a subquery.
        signatures = Opinion.objects.filter(item__isnull=False, signature__isnull=False).values(
            "signature_id"
        )
        return Blob.objects.filter(
            Q(pk__in=ReportAttachment.objects.values("blob_id")) | Q(pk__in=signatures)
        ).values_list("pk", flat=True)


urlpatterns = [
    path("supervision/items/", supervision_list, name="supervision_list"),
    path("supervision/items/new/", supervision_new, name="supervision_new"),
    path("supervision/items/<int:item_id>/", supervision_item, name="supervision_item"),
    path("supervision/items/<int:item_id>/report/", supervision_report, name="supervision_report"),
    path("supervision/items/<int:item_id>/extension/", supervision_extension, name="supervision_extension"),
    path("supervision/items/<int:item_id>/notice/", supervision_notice_page, name="supervision_notice"),
    path("supervision/tasks/<int:supervision_task_id>/", supervision_task, name="supervision_task"),
    path(
        "supervision/tasks/<int:supervision_task_id>/transfer/",
        supervision_transfer,
        name="supervision_transfer",
    ),
    path(
        "supervision/reports/<int:report_id>/sign-off/",
        supervision_report_sign_off,
        name="supervision_report_sign_off",
    ),
    path(
        "supervision/extensions/<int:extension_id>/screen/",
        supervision_extension_screen,
        name="supervision_extension_screen",
    ),
    path(
        "supervision/extensions/<int:extension_id>/decide/",
        supervision_extension_decide,
        name="supervision_extension_decide",
    ),
]
