"""议程与材料 pages: the agenda (read by everyone who sees the meeting, edited by the organiser
through POST actions) and the access-checked, audited download/preview of a material."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from meetings import access, agenda
from meetings.agenda_forms import AgendaItemForm, MaterialForm, MoveForm
from meetings.errors import MeetingError
from meetings.models import AgendaItem, Material, Meeting
from officeapp.audit.services import record_view
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import sanitise_name
from officeapp.blobs.services import open_blob

# Shown in the browser instead of saved: the types a browser renders without running anything.
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


def _context(request: HttpRequest, meeting: Meeting, **extra: Any) -> dict[str, Any]:
    can_manage = access.can_manage_meeting(request.user, meeting)
    items = list(AgendaItem.objects.filter(meeting=meeting).select_related("presenter").order_by("order"))
    materials = list(Material.objects.filter(meeting=meeting).order_by("pk"))
    for item in items:
        item.item_materials = [m for m in materials if m.agenda_item_id == item.pk]  # type: ignore[attr-defined]
        if can_manage:
            item.form = extra.pop(f"form_{item.pk}", None) or AgendaItemForm.for_item(item, meeting)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "page_title": f"议程 · {meeting.title}",
        "meeting": meeting,
        "can_manage": can_manage,
        "items": items,
        "meeting_materials": [m for m in materials if m.agenda_item_id is None],
        "error": "",
    }
    if can_manage:
        context["add_form"] = AgendaItemForm(meeting=meeting, prefix="new")
        context["material_form"] = MaterialForm(meeting=meeting)
    context.update(extra)
    return context


def _page(request: HttpRequest, meeting: Meeting, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "meetings/agenda_page.html", _context(request, meeting, **extra), status=status)


def _item_fields(form: AgendaItemForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "presenter": data["presenter"],
        "presenter_name": data["presenter_name"] if data["presenter"] is None else "",
        "starts_at": data["starts_at"],
        "minutes": data["minutes"],
        "notes": data["notes"],
    }


def _refused(request: HttpRequest, meeting: Meeting, message: str, **extra: Any) -> HttpResponse:
    return _page(request, meeting, status=400, error=message, **extra)


@require_http_methods(["GET", "POST"])
@login_required
def agenda_page(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = access.get_meeting_for(request.user, meeting_id)
    if request.method == "GET":
        return _page(request, meeting)
    if not access.can_manage_meeting(request.user, meeting):
        raise PermissionDenied("只有会议组织者可以修改议程和材料。")
    action = request.POST.get("action", "")
    item = None
    if action in ("update", "move", "remove"):
        item = AgendaItem.objects.filter(
            meeting=meeting, pk=access.parse_id(request.POST.get("item"))
        ).first()
        if item is None:
            return _refused(request, meeting, "该议题已被删除，请刷新页面。")
    try:
        if action == "add":
            form = AgendaItemForm(request.POST, meeting=meeting, prefix="new")
            if not form.is_valid():
                return _refused(request, meeting, "请检查议题填写的内容。", add_form=form)
            try:
                agenda.add_agenda_item(meeting, actor=request.user, **_item_fields(form))
            except MeetingError as exc:
                return _refused(request, meeting, exc.message, add_form=form)
            messages.success(request, "议题已添加。")
        elif action == "update" and item is not None:
            form = AgendaItemForm(request.POST, meeting=meeting, prefix=f"item{item.pk}")
            if not form.is_valid():
                return _refused(request, meeting, "请检查议题填写的内容。", **{f"form_{item.pk}": form})
            try:
                agenda.update_agenda_item(item, actor=request.user, **_item_fields(form))
            except MeetingError as exc:
                return _refused(request, meeting, exc.message, **{f"form_{item.pk}": form})
            messages.success(request, "议题已保存。")
        elif action == "move" and item is not None:
            move = MoveForm(request.POST)
            if not move.is_valid():
                return _refused(request, meeting, "议题位置无效。")
            agenda.move_agenda_item(item, actor=request.user, position=move.cleaned_data["position"])
        elif action == "remove" and item is not None:
            agenda.remove_agenda_item(item, actor=request.user)
            messages.success(request, "议题已删除，其材料仍保留在会议材料中。")
        elif action == "upload":
            form = MaterialForm(request.POST, request.FILES, meeting=meeting)
            if not form.is_valid():
                return _refused(request, meeting, _first_error(form), material_form=form)
            try:
                agenda.add_material(
                    meeting,
                    actor=request.user,
                    upload=form.cleaned_data["file"],
                    title=form.cleaned_data["title"],
                    agenda_item=form.cleaned_data["agenda_item"],
                )
            except MeetingError as exc:
                return _refused(request, meeting, exc.message, material_form=form)
            messages.success(request, "材料已上传。")
        elif action == "remove_material":
            material = Material.objects.filter(
                meeting=meeting, pk=access.parse_id(request.POST.get("material"))
            ).first()
            if material is None:
                return _refused(request, meeting, "该材料已被删除，请刷新页面。")
            agenda.remove_material(material, actor=request.user)
            messages.success(request, "材料已删除。")
        else:
            return _refused(request, meeting, "无效的操作。")
    except MeetingError as exc:
        return _refused(request, meeting, exc.message)
    return redirect("meetings:agenda", meeting_id=meeting.pk)


def _first_error(form: Any) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "提交的内容无效。"


@require_GET
@login_required
def material(request: HttpRequest, material_id: int) -> HttpResponse:
    """Download a material (?preview=1: shown in the browser when it is a PDF or an image)."""
    item = access.get_material_for(request.user, material_id)
    blob = item.blob
    try:
        chunks = open_blob(blob)  # opened first: a missing blob is an error page, not an audited view
    except BlobStoreUnavailable as exc:
        return render(request, "blobs/unavailable.html", {"message": exc.message}, status=503)
    except BlobMissing:
        return render(
            request, "blobs/unavailable.html", {"message": "文件内容已丢失，请联系系统管理员。"}, status=404
        )
    preview = request.GET.get("preview") == "1" and blob.content_type in PREVIEWABLE
    record_view(
        request,
        item,
        action="meetings.material.view" if preview else "meetings.material.download",
        details={"meeting": item.meeting_id, "blob": blob.pk},
    )
    response = StreamingHttpResponse(chunks, content_type=blob.content_type)
    response["Content-Length"] = str(blob.size)
    response["Content-Disposition"] = content_disposition_header(
        not preview, sanitise_name(item.filename) or "file"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A file opened directly must never run as part of our origin.
    # (a preview is not sandboxed: browsers refuse to show a PDF in a sandboxed document).
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; object-src 'self'" if preview else "default-src 'none'; sandbox"
    )
    return response
