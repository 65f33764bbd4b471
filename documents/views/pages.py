"""我的公文 and the document page. The flow's panel (opinions, current step, actions) comes from
workflows through documents.panels, since documents never imports the flows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe

from documents import access
from documents.models import DocumentState, IncomingRecord, Participant, RenderStatus
from documents.panels import document_panels
from officeapp.audit.services import record_view


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的公文: documents the person drafted or took part in, newest first; by state."""
    documents = (
        access.visible_documents(request.user)
        .filter(pk__in=Participant.objects.filter(user=request.user).values("document_id"))
        .select_related("agency", "department", "drafter", "incoming")
        .order_by("-updated_at", "-pk")
    )
    state = request.GET.get("state", "")
    if state in DocumentState.values:
        documents = documents.filter(state=state)
    page = Paginator(documents, 20).get_page(request.GET.get("page"))
    return render(
        request, "documents/mine.html", {"page_obj": page, "states": DocumentState.choices, "state": state}
    )


@login_required
def detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    record_view(request, document, action="documents.viewed")
    panels = [mark_safe(html) for _, panel in document_panels.items() if (html := panel(request, document))]  # noqa: S308 - panels render templates
    return render(
        request,
        "documents/detail.html",
        {
            **_incoming_context(request, document),
            "document": document,
            "version": document.current_version,
            "attachments": document.attachments.filter(removed_at__isnull=True).order_by("order", "pk"),
            # The newest ready file of each kind: the 排版稿, its PDF, the sealed PDF.
            "renderings": _latest_renderings(document),
            "sealed": document.seal_applications.exists(),
            "panels": panels,
        },
    )


def _incoming_context(request: HttpRequest, document: Any) -> dict[str, Any]:
    """A 收文's 登记 facts (收文号, 来文单位 … 办理时限, overdue or not); for a 发文 written in reply,
    the 收文 it answers ("答复来文") when the viewer may open it."""
    context: dict[str, Any] = {}
    if document.in_reply_to_id and access.can_view(request.user, document.in_reply_to):
        context["answers"] = document.in_reply_to
    if not document.is_incoming:
        return context
    incoming = IncomingRecord.objects.filter(document=document).first()
    if incoming is None:
        return context
    # The 办理时限 set at 批办/分办 (kept on the flow's process) wins over the one given at 登记.
    process = getattr(document, "incoming_process", None)
    deadline = getattr(process, "deadline", None) or document.deadline
    finished = {DocumentState.COMPLETE, DocumentState.ARCHIVE, DocumentState.ARCHIVED, DocumentState.RETURNED}
    context.update(
        incoming=incoming,
        deadline=deadline,
        overdue=bool(deadline) and document.state not in finished and deadline < timezone.localdate(),
    )
    return context


def _latest_renderings(document: Any) -> list[Any]:
    latest: dict[str, Any] = {}
    for rendering in document.renderings.filter(status=RenderStatus.READY).order_by("-created_at")[:12]:
        latest.setdefault(rendering.kind, rendering)
    return list(latest.values())


urlpatterns = [
    path("", mine, name="mine"),
    path("<int:document_id>/", detail, name="detail"),
]
