"""我的公文 and the document page. The flow's panel (opinions, current step, actions) comes from
workflows through documents.panels, since documents never imports the flows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.safestring import mark_safe

from documents import access
from documents.models import DocumentState, Participant, RenderStatus
from documents.panels import document_panels
from officeapp.audit.services import record_view


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的公文: documents the person drafted or took part in, newest first; by state."""
    documents = (
        access.visible_documents(request.user)
        .filter(pk__in=Participant.objects.filter(user=request.user).values("document_id"))
        .select_related("agency", "department", "drafter")
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
            "document": document,
            "version": document.current_version,
            "attachments": document.attachments.filter(removed_at__isnull=True).order_by("order", "pk"),
            # The newest ready file of each kind: the 排版稿, its PDF, the sealed PDF.
            "renderings": _latest_renderings(document),
            "sealed": document.seal_applications.exists(),
            "panels": panels,
        },
    )


def _latest_renderings(document: Any) -> list[Any]:
    latest: dict[str, Any] = {}
    for rendering in document.renderings.filter(status=RenderStatus.READY).order_by("-created_at")[:12]:
        latest.setdefault(rendering.kind, rendering)
    return list(latest.values())


urlpatterns = [
    path("", mine, name="mine"),
    path("<int:document_id>/", detail, name="detail"),
]
