"""The 发文 pages: 拟稿, the task page of every step, 撤回/转办/抢办, the office's process
management, the 发文处理单 and 常用意见. Thin: parse → access → one service → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST
from viewflow.workflow.models import Task

from documents import access as documents_access
from documents.bodytext import text_from_blocks
from documents.errors import DocumentError, StaleVersion
from documents.services import create_draft
from officeapp.audit.services import record_view
from officeapp.org.models import User
from workflows import access, services
from workflows.flows import STEP_LABELS
from workflows.forms import (
    AttachmentForm,
    BodyForm,
    ChangeSignersForm,
    CommonOpinionForm,
    ManageForm,
    OutgoingDraftForm,
    StepForm,
    TransferForm,
)
from workflows.models import CommonOpinion, Opinion, OutgoingProcess
from workflows.services import FlowError, StepInput, party_for
from workflows.sheet import sheet_docx, sheet_rows


def _can_draft(user: Any) -> bool:
    return user.department_id is not None and user.department.agency_id is not None


@login_required
@require_http_methods(["GET", "POST"])
def new_outgoing(request: HttpRequest) -> HttpResponse:
    """拟稿: describe the document, write 正文, and the 发文 process starts with its draft task."""
    if not _can_draft(request.user):
        raise PermissionDenied("您没有所属部门，不能拟稿。")
    form = OutgoingDraftForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = create_draft(
                actor=request.user,
                department=request.user.department,
                title=data["title"],
                doc_type=data["doc_type"],
                body=data["body_blocks"],
                main_recipients=data["main_recipients"],
                cc_recipients=data["cc_recipients"],
                co_issuers=data["co_issuers"],
                main_recipients_text=data["main_recipients_text"],
                urgency=data["urgency"],
                disclosure=data["disclosure"],
                classification=data["classification"],
                secrecy_period=data["secrecy_period"],
                deadline=data["deadline"],
                remark=data["remark"],
                minutes_attendees=data["minutes_attendees"],
                minutes_on_leave=data["minutes_on_leave"],
                minutes_observers=data["minutes_observers"],
            )
            process = services.start_outgoing(document, actor=request.user)
        except DocumentError as exc:
            error = exc.message
        else:
            task = (
                Task.objects.filter(process=process).exclude(flow_task_type="START").order_by("-pk").first()
            )
            messages.success(request, "公文已创建，请完善正文后提交处室审核。")
            return redirect("workflows:task", task_id=task.pk) if task else redirect("documents:mine")
    return render(
        request, "workflows/new_outgoing.html", {"form": form, "error": error}, status=400 if error else 200
    )


def _task_context(request: HttpRequest, task: Task, **extra: Any) -> dict[str, Any]:
    process: OutgoingProcess = task.outgoing  # type: ignore[attr-defined]
    document = process.document
    step = task.flow_task.name
    can_act = access.can_act(request.user, task)
    context: dict[str, Any] = {
        "task": task,
        "process": process,
        "document": document,
        "step": step,
        "step_label": STEP_LABELS.get(step, step),
        "can_act": can_act,
        "can_claim": access.can_claim(request.user, task),
        "can_withdraw": access.can_withdraw(request.user, task),
        "can_manage": access.can_manage(request.user, process),
        "body_editable": can_act and access.step_may_edit_body(step) and not document.is_frozen,
        "version": document.current_version,
        "opinions": Opinion.objects.filter(document=document).select_related("author", "on_behalf_of"),
        "common_opinions": CommonOpinion.objects.filter(user=request.user),
        "party": (task.data or {}).get("party"),
        "attachments": document.attachments.filter(removed_at__isnull=True).order_by("order", "pk"),
        "older_versions": document.versions.exclude(pk=document.current_version_id).select_related("author")[
            :10
        ],
        "renderings": document.renderings.filter(status="ready").order_by("-created_at")[:3],
    }
    if can_act:
        context.setdefault("form", StepForm(step=step, document=document))
        if context["body_editable"]:
            context.setdefault("attachment_form", AttachmentForm())
            context.setdefault(
                "body_form",
                BodyForm(
                    initial={
                        "body": text_from_blocks(
                            document.current_version.body if document.current_version else []
                        ),
                        "based_on": document.current_version.number if document.current_version else None,
                    }
                ),
            )
    context.update(extra)
    return context


def _step_input(form: StepForm) -> StepInput:
    data = form.cleaned_data
    parties = None
    if "countersign_departments" in form.fields:
        parties = [party_for(d) for d in data.get("countersign_departments") or []]
        parties += [party_for(a) for a in data.get("countersign_agencies") or []]
    return StepInput(
        decision=data["decision"],
        opinion=data.get("opinion") or "",
        return_to=data.get("return_to") or "",
        signature=data.get("signature"),
        countersign_parties=parties,
        signers=list(data["signers"]) if data.get("signers") else None,
        reserved_number=data.get("reserved_number") or None,
        retention=data.get("retention") or "",
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    """One page per task: the document, its opinions, and — for whoever holds it — the step's form."""
    task = access.get_task_for(request.user, task_id)
    if request.method == "GET":
        record_view(request, task.outgoing.document, action="documents.viewed")  # type: ignore[attr-defined]
        return render(request, "workflows/task.html", _task_context(request, task))
    action = request.POST.get("action", "complete")
    step = task.flow_task.name
    document = task.outgoing.document  # type: ignore[attr-defined]
    if action == "restore_version":
        try:
            version = services.restore_body(
                task,
                actor=request.user,
                version_number=int(request.POST.get("version", 0)),
                based_on=int(request.POST.get("based_on", 0)) or None,
            )
        except (DocumentError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "请选择要恢复的版本。"))
        else:
            messages.success(request, f"已将第{version.restored_from}版恢复为第{version.number}版。")
        return redirect("workflows:task", task_id=task.pk)
    if action in ("add_attachment", "remove_attachment"):
        return _attachment_action(request, task, action)
    if action == "save_body":
        body_form = BodyForm(request.POST, request.FILES)
        if body_form.is_valid():
            from documents.bodytext import blocks_from_text
            from documents.docx_import import body_from_docx

            try:
                uploaded = body_form.cleaned_data.get("docx")
                body = (
                    body_from_docx(uploaded) if uploaded else blocks_from_text(body_form.cleaned_data["body"])
                )
                version = services.edit_body(
                    task,
                    actor=request.user,
                    body=body,
                    based_on=body_form.cleaned_data["based_on"],
                    comment=body_form.cleaned_data["comment"],
                )
            except StaleVersion as exc:
                context = _task_context(request, task, body_form=body_form, body_error=exc.message)
                context["newer_version"] = exc.context.get("latest")
                return render(request, "workflows/task.html", context, status=409)
            except DocumentError as exc:
                return render(
                    request,
                    "workflows/task.html",
                    _task_context(request, task, body_form=body_form, body_error=exc.message),
                    status=400,
                )
            messages.success(request, f"正文已保存为第{version.number}版。")
            return redirect("workflows:task", task_id=task.pk)
        return render(
            request, "workflows/task.html", _task_context(request, task, body_form=body_form), status=400
        )
    if action == "claim":
        try:
            services.claim(task, actor=request.user)
        except FlowError as exc:
            messages.error(request, exc.message)
        return redirect("workflows:task", task_id=task.pk)
    if action == "typeset_render":
        try:
            services.typeset_render(task, actor=request.user)
        except DocumentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "排版稿已生成，PDF 清样稍后可预览。")
        return redirect("workflows:task", task_id=task.pk)
    form = StepForm(request.POST, step=step, document=document)
    if not form.is_valid():
        return render(request, "workflows/task.html", _task_context(request, task, form=form), status=400)
    try:
        services.complete_step(task, actor=request.user, step_input=_step_input(form))
    except DocumentError as exc:
        return render(
            request,
            "workflows/task.html",
            _task_context(request, task, form=form, error=exc.message),
            status=400,
        )
    messages.success(request, f"已办理：{STEP_LABELS.get(step, step)}。")
    return redirect("workflows:inbox")


def _attachment_action(request: HttpRequest, task: Task, action: str) -> HttpResponse:
    """Add or remove an attachment while holding an editable step; a refused file keeps the page."""
    from officeapp.blobs.checks import UploadRefused
    from officeapp.blobs.services import BlobStoreUnavailable

    if action == "remove_attachment":
        try:
            services.detach(task, actor=request.user, attachment_id=int(request.POST.get("attachment_id", 0)))
        except (DocumentError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "该附件不存在或已删除。"))
        return redirect("workflows:task", task_id=task.pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request, "workflows/task.html", _task_context(request, task, attachment_form=form), status=400
        )
    try:
        services.attach(
            task, actor=request.user, upload=form.cleaned_data["file"], title=form.cleaned_data["title"]
        )
    except (UploadRefused, BlobStoreUnavailable) as exc:
        form.add_error("file", str(exc))
        return render(
            request, "workflows/task.html", _task_context(request, task, attachment_form=form), status=400
        )
    except DocumentError as exc:
        context = _task_context(request, task, attachment_form=form, error=exc.message)
        return render(request, "workflows/task.html", context, status=400)
    messages.success(request, "附件已上传。")
    return redirect("workflows:task", task_id=task.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access.get_task_for(request.user, task_id)
    try:
        revived = services.withdraw(task, actor=request.user)
    except FlowError as exc:
        messages.error(request, exc.message)
        return redirect("workflows:task", task_id=task.pk)
    messages.success(request, "已撤回，可重新办理。")
    return redirect("workflows:task", task_id=revived.pk)


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access.get_task_for(request.user, task_id)
    process = task.outgoing  # type: ignore[attr-defined]
    if not access.can_transfer(request.user, task, process):
        raise PermissionDenied("只有当前办理人或办公室可以转办。")
    # The actor's own colleagues: a 会签 held in another agency is handed on inside that agency.
    own_agency = getattr(request.user.department, "agency_id", None) or process.document.agency_id
    form = TransferForm(request.POST or None, agency_id=own_agency, exclude=task.owner_id)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer(
                task,
                actor=request.user,
                to_user=form.cleaned_data["to_user"],
                reason=form.cleaned_data["reason"],
            )
        except FlowError as exc:
            error = exc.message
        else:
            messages.success(request, f"已转{form.cleaned_data['to_user'].real_name}办理。")
            return redirect("documents:detail", document_id=process.document_id)
    return render(
        request,
        "workflows/transfer.html",
        {"form": form, "task": task, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, process_id: int) -> HttpResponse:
    """The office's commands: 重定位, 挂起/恢复, 终止, 加签/减签 (all audited)."""
    process = access.get_process_for(request.user, process_id)
    if not access.can_manage(request.user, process):
        raise PermissionDenied("只有办公室可以管理流程。")
    form = ManageForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "force_move":
                services.force_move(
                    process, actor=request.user, to_step=data["to_step"], reason=data["reason"]
                )
            elif data["action"] == "suspend":
                services.suspend(process, actor=request.user, reason=data["reason"])
            elif data["action"] == "resume":
                services.resume(process, actor=request.user)
            else:
                services.terminate(process, actor=request.user, reason=data["reason"])
        except FlowError as exc:
            error = exc.message
        else:
            messages.success(request, "操作已完成。")
            return redirect("workflows:manage", process_id=process.pk)
    return _render_manage(request, process, form=form, error=error)


def _render_manage(request: HttpRequest, process: OutgoingProcess, **extra: Any) -> HttpResponse:
    open_tasks = Task.objects.filter(process=process, status__in=access.OPEN).select_related("owner")
    signers = {u.pk: u for u in User.objects.filter(pk__in=process.sign_off_chain)}
    context = {
        "process": process,
        "document": process.document,
        "open_tasks": open_tasks,
        "chain": [signers[pk] for pk in process.sign_off_chain if pk in signers],
        "signed": process.sign_off_index,
        "form": ManageForm(),
        "signers_form": ChangeSignersForm(document=process.document),
        **extra,
    }
    return render(request, "workflows/manage.html", context, status=400 if extra.get("error") else 200)


@login_required
@require_POST
def change_signers(request: HttpRequest, process_id: int) -> HttpResponse:
    """加签 / 减签 of 会签 parties and of signers, by the office."""
    process = access.get_process_for(request.user, process_id)
    if not access.can_manage(request.user, process):
        raise PermissionDenied("只有办公室可以加签或减签。")
    form = ChangeSignersForm(request.POST, document=process.document)
    if not form.is_valid():
        return _render_manage(request, process, signers_form=form, error="请检查填写的内容。")
    data = form.cleaned_data
    try:
        if data["change"] == "add_countersign":
            chosen = data.get("department") or data.get("agency")
            if chosen is None:
                raise FlowError("请选择要增加的会签处室或单位。")
            services.add_countersigner(process, actor=request.user, party=party_for(chosen))
        elif data["change"] == "remove_countersign":
            task = Task.objects.filter(process=process, pk=data.get("countersign_task") or 0).first()
            if task is None:
                raise FlowError("请选择要减去的会签。")
            services.remove_countersigner(task, actor=request.user, reason=data.get("reason") or "")
        elif data["change"] == "add_signer":
            if data.get("leader") is None:
                raise FlowError("请选择领导。")
            services.add_signer(process, actor=request.user, signer=data["leader"])
        else:
            if data.get("leader") is None:
                raise FlowError("请选择领导。")
            services.remove_signer(process, actor=request.user, signer=data["leader"])
    except FlowError as exc:
        return _render_manage(request, process, signers_form=form, error=exc.message)
    messages.success(request, "已调整。")
    return redirect("workflows:manage", process_id=process.pk)


@login_required
def sheet(request: HttpRequest, document_id: int) -> HttpResponse:
    """发文处理单: every step, person, time and opinion — printable HTML, or .docx with ?format=docx."""
    document = documents_access.get_document_for(request.user, document_id)
    rows = sheet_rows(document)
    if request.GET.get("format") == "docx":
        content = sheet_docx(document)
        record_view(request, document, action="documents.sheet_downloaded")
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        response["Content-Disposition"] = (
            "attachment; filename*=UTF-8''%E5%8F%91%E6%96%87%E5%A4%84%E7%90%86%E5%8D%95.docx"
        )
        return response
    return render(request, "workflows/sheet.html", {"document": document, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def common_opinions(request: HttpRequest) -> HttpResponse:
    form = CommonOpinionForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.add_common_opinion(actor=request.user, text=form.cleaned_data["text"])
        except FlowError as exc:
            error = exc.message
        else:
            return redirect("workflows:common_opinions")
    return render(
        request,
        "workflows/common_opinions.html",
        {"form": form, "error": error, "items": CommonOpinion.objects.filter(user=request.user)},
        status=400 if error else 200,
    )


@login_required
@require_POST
def common_opinion_remove(request: HttpRequest, opinion_id: int) -> HttpResponse:
    opinion = access.get_common_opinion_for(request.user, opinion_id)
    services.remove_common_opinion(opinion, actor=request.user)
    return redirect("workflows:common_opinions")


urlpatterns = [
    path("outgoing/new/", new_outgoing, name="new_outgoing"),
    path("tasks/<int:task_id>/", task_page, name="task"),
    path("tasks/<int:task_id>/withdraw/", withdraw, name="withdraw"),
    path("tasks/<int:task_id>/transfer/", transfer, name="transfer"),
    path("processes/<int:process_id>/manage/", manage, name="manage"),
    path("processes/<int:process_id>/signers/", change_signers, name="change_signers"),
    path("documents/<int:document_id>/sheet/", sheet, name="sheet"),
    path("common-opinions/", common_opinions, name="common_opinions"),
    path("common-opinions/<int:opinion_id>/remove/", common_opinion_remove, name="common_opinion_remove"),
]
