"""The audit page of the 审计管理员: search, filter, page through and export audit events."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_POST

from officeapp.audit.access import can_read_audit, visible_events
from officeapp.audit.export import EXPORT_MAX_ROWS, FORMATS
from officeapp.audit.forms import EventFilterForm
from officeapp.audit.models import AuditEvent, Outcome
from officeapp.audit.services import export_events, record

PAGE_SIZE = 50


def _require_auditor(request: HttpRequest) -> None:
    # The audit log is the 审计管理员's page and nobody else's: others get 403, not 404 — the page's
    # existence is no secret, only its content.
    if not can_read_audit(request.user):
        # Someone reaching for the audit log is itself worth an entry in it.
        record(
            "audit.access",
            actor=request.user,
            outcome=Outcome.DENIED,
            object_type="audit.auditevent",
            details={"path": request.path},
            client_address=getattr(request, "client_address", None),
        )
        raise PermissionDenied("仅审计管理员可查看审计日志。")


def _page(form: EventFilterForm, request: HttpRequest) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, by keyset on the primary key: no COUNT, no OFFSET, the same cost on
    page 1 and page 10,000 of a table of hundreds of millions of rows."""
    events = form.filter(visible_events(request.user))
    before = form.cleaned_data.get("before")
    if before:
        events = events.filter(id__lt=before)
    rows = list(events.select_related("actor")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_before


def _render(
    request: HttpRequest, form: EventFilterForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    filters = [
        (k, v) for k, v in form.data.items() if k not in ("before", "csrfmiddlewaretoken", "format") and v
    ]
    rows: list[AuditEvent] = []
    next_url = ""
    if form.is_valid():
        rows, next_before = _page(form, request)
        if next_before:
            # From the form's data, not request.GET: a refused export re-renders from POST data.
            next_url = "?" + urlencode([*filters, ("before", next_before)])
    context: dict[str, Any] = {
        "page_title": "审计日志",
        "form": form,
        "rows": rows,
        "next_url": next_url,
        "is_first_page": not form.data.get("before"),
        "filters": filters,
        "formats": list(FORMATS),
        "export_error": error,
        "export_max": EXPORT_MAX_ROWS,
    }
    return render(request, "audit/events.html", context, status=status)


@login_required
@require_GET
def events(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = EventFilterForm(request.GET)
    return _render(request, form, status=200 if form.is_valid() else 400)


@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    _require_auditor(request)
    form = EventFilterForm(request.POST)
    fmt = request.POST.get("format", "")
    if not form.is_valid():
        return _render(request, form, status=400)
    if fmt not in FORMATS:
        return _render(request, form, status=400, error="请选择导出格式（xlsx 或 csv）。")
    events = form.filter(visible_events(request.user))
    if events[EXPORT_MAX_ROWS : EXPORT_MAX_ROWS + 1].exists():
        return _render(
            request,
            form,
            status=400,
            error=f"筛选结果超过 {EXPORT_MAX_ROWS} 条，请缩小时间范围或增加条件后再导出。",
        )
    exported = export_events(actor=request.user, events=events, fmt=fmt, filters=form.summary())
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(True, exported.filename)
    return response
