"""督办看板, the list behind each bar, its Excel export and the monthly 督办通报. Thin: parse the
filters → access (visible_items, can_view_dashboard, can_supervise) → the figures or one service →
render. Figures are in workflows/supervision_stats.py, the 通报 in workflows/supervision_bulletin.py."""

from __future__ import annotations

import tempfile
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms.utils import flatatt
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from documents.errors import DocumentError
from officeapp.audit.services import record
from workflows.access import visible_items
from workflows.acting import FlowError
from workflows.models import Importance, ItemState, Light, SupervisionSource
from workflows.supervision_bulletin import (
    BulletinExists,
    bulletin_for,
    create_bulletin,
    earlier_bulletins,
)
from workflows.supervision_dashboard_html import bar_tables
from workflows.supervision_stats import (
    SERIES,
    ItemFilter,
    can_view_dashboard,
    dashboard,
    parse_unit,
    scoped_items,
    supervising_agency_of,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
FORBIDDEN = "督办看板供处室负责人、督查室（办公室）和领导使用。"


def _blank(choices: Any, label: str = "全部") -> list[tuple[str, str]]:
    return [("", label), *choices]


class UnitSelect(forms.Select):
    """The 单位 filter's select, written in Python with Django's markup: a whole agency's page lists
    some fifty units, and Django renders every option through a template of its own."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        chosen = "" if value is None else str(value)
        options = "".join(
            f'\n  <option value="{escape(str(code))}"{" selected" if str(code) == chosen else ""}>'
            f"{escape(str(label))}</option>\n"
            for code, label in self.choices
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<select name="{escape(name)}"{attrs}>{options}\n</select>')  # noqa: S308 — escaped above


class DashboardFilterForm(forms.Form):
    """The page's filters (来源, 单位, 立项时间, 重要程度); the bar's condition rides along hidden."""

    source = forms.ChoiceField(label="任务来源", required=False, choices=_blank(SupervisionSource.choices))
    # Its options are the units of the items on the page (set after the figures, no query of its own).
    unit = forms.CharField(label="单位", required=False, max_length=12, widget=UnitSelect)
    importance = forms.ChoiceField(label="重要程度", required=False, choices=_blank(Importance.choices))
    date_from = forms.DateField(
        label="立项起", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label="立项止", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_units([])
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "请输入有效的日期，如 2026-01-31。"
        for name in ("source", "importance"):
            self.fields[name].error_messages["invalid_choice"] = "请从列表中选择。"

    def set_units(self, units: list[tuple[str, str]]) -> None:
        chosen = self.data.get("unit", "") if self.is_bound else ""
        if chosen and chosen not in dict(units):
            units = [*units, (chosen, "（所选单位）")]
        self.fields["unit"].widget.choices = _blank(units)

    def clean_unit(self) -> str:
        code = self.cleaned_data["unit"]
        if code and parse_unit(code) is None:
            raise forms.ValidationError("请从列表中选择。")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "立项止日不能早于起日。")
            data.pop("date_from", None)  # a refused range is not applied at all, not half of it
        return data


class DrillForm(forms.Form):
    """A bar's condition, as the dashboard writes it into the list's link."""

    state = forms.ChoiceField(required=False, choices=_blank(ItemState.choices))
    light = forms.ChoiceField(required=False, choices=_blank(Light.choices))
    open = forms.BooleanField(required=False)
    part = forms.CharField(required=False, max_length=12)
    role = forms.ChoiceField(required=False, choices=[("", ""), ("lead", "牵头"), ("co", "协办")])
    lead = forms.CharField(required=False, max_length=12)
    overdue = forms.BooleanField(required=False)
    due_week = forms.BooleanField(required=False)
    report_late = forms.BooleanField(required=False)
    closed = forms.BooleanField(required=False)
    counted = forms.BooleanField(required=False)
    month = forms.RegexField(required=False, regex=r"^\d{4}-\d{2}$")
    series = forms.ChoiceField(required=False, choices=_blank(SERIES.items()))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("part", "lead"):
            if data.get(name) and parse_unit(data[name]) is None:
                self.add_error(name, "单位参数有误。")
        if bool(data.get("month")) != bool(data.get("series")):
            self.add_error("month", "月份和统计项须同时给出。")
        return data


def _filters(request: HttpRequest, *, drill: bool) -> tuple[ItemFilter, DashboardFilterForm, list[str]]:
    """The filter from the query string. A refused value is reported and not applied on the
    dashboard; on a list it yields no rows (a list must never show more than the bar said)."""
    form = DashboardFilterForm(request.GET or None)
    errors: list[str] = []
    values: dict[str, Any] = {}
    if form.is_bound:
        if form.is_valid():
            values.update({k: v for k, v in form.cleaned_data.items() if v})
        else:
            errors += [e for field_errors in form.errors.values() for e in field_errors]
            values.update({k: v for k, v in getattr(form, "cleaned_data", {}).items() if v})
    if drill:
        drill_form = DrillForm(request.GET)
        if drill_form.is_valid():
            values.update({k: v for k, v in drill_form.cleaned_data.items() if v})
        else:
            errors += [e for field_errors in drill_form.errors.values() for e in field_errors]
    return ItemFilter(**values), form, errors


def _audit(request: HttpRequest, action: str, details: dict[str, Any]) -> None:
    """Views and downloads are audited like changes; details hold the filter's ids and codes."""
    record(
        action,
        actor=request.user,
        object_type="workflows.supervisionitem",
        details=details,
        client_address=getattr(request, "client_address", None),
    )


def _require_dashboard(request: HttpRequest) -> None:
    if not can_view_dashboard(request.user):
        raise PermissionDenied(FORBIDDEN)


@login_required
@require_GET
def supervision_dashboard(request: HttpRequest) -> HttpResponse:
    """督办看板: counts by state, light, source and unit, the per-unit table, overdue and due this
    week, the 12-month trend; every chart has its table, every bar links to its list."""
    _require_dashboard(request)
    visible = visible_items(request.user)
    f, form, errors = _filters(request, drill=False)
    board = dashboard(request.user, f, visible=visible)
    form.set_units(board.unit_choices)
    _audit(request, "workflows.supervision_dashboard.view", f.base_params())
    return render(
        request,
        "workflows/supervision/dashboard.html",
        {
            "form": form,
            "errors": errors,
            "board": board,
            # The six bar tables' rows, written in Python (some 700 links on a whole agency's page).
            "tables": bar_tables(board, reverse("workflows:supervision_dashboard_list")),
            "base_query": f.query(),
            "can_bulletin": supervising_agency_of(request.user) is not None,
        },
    )


def _describe(f: ItemFilter) -> str:
    """The bar's condition in words, for the list's heading."""
    words = []
    if f.state:
        words.append(f"状态：{ItemState(f.state).label}")
    if f.light:
        words.append(f"在办{Light(f.light).label}")
    elif f.open:
        words.append("在办")
    if f.part:
        words.append({"lead": "牵头", "co": "协办"}.get(f.role, "参与") + "单位")
    if f.lead:
        words.append("牵头单位")
    if f.overdue:
        words.append("逾期")
    if f.due_week:
        words.append("本周到期")
    if f.report_late:
        words.append("反馈逾期")
    if f.closed:
        words.append("已销号")
    if f.month:
        words.append(f"{f.month} {SERIES.get(f.series, '')}")
    return "，".join(words) or "全部督办事项"


@login_required
@require_GET
def supervision_dashboard_list(request: HttpRequest) -> HttpResponse:
    """The items behind a bar: exactly the rows the bar counts (same filter, same scope)."""
    _require_dashboard(request)
    visible = visible_items(request.user)
    f, form, errors = _filters(request, drill=True)
    items = scoped_items(request.user, f, visible=visible if not errors else visible.none())
    items = items.select_related("lead_department", "lead_agency").order_by("due_on", "-pk")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/supervision/dashboard_list.html",
        {
            "page_obj": page,
            "form": form,
            "errors": errors,
            "filter": f,
            "description": _describe(f),
            "query": f.query(),
            "today": timezone.localdate(),
        },
    )


def _text_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: never a formula, whatever a title starts with
    return cell


EXPORT_HEADER = [
    "督办编号",
    "督办事项",
    "任务来源",
    "牵头单位",
    "协办单位",
    "收到时间",
    "完成时限",
    "重要程度",
    "状态",
    "红黄绿灯",
    "亮灯原因",
    "完成进度（%）",
    "立项时间",
    "销号时间",
]


def export_rows(items: Any) -> Any:
    """The export's rows as text, read as plain values in chunks (no model objects kept)."""
    sources, states = dict(SupervisionSource.choices), dict(ItemState.choices)
    lights, importance = dict(Light.choices), dict(Importance.choices)
    rows = items.values_list(
        "number",
        "title",
        "source",
        "lead_department__name",
        "lead_agency__name",
        "co_units",
        "received_on",
        "due_on",
        "importance",
        "state",
        "light",
        "light_reason",
        "progress",
        "created_at",
        "closed_at",
    )
    for (
        number,
        title,
        source,
        lead_dept,
        lead_agency,
        co_units,
        received_on,
        due_on,
        imp,
        state,
        light,
        reason,
        progress,
        created_at,
        closed_at,
    ) in rows.iterator(chunk_size=2000):
        co = "、".join(str(u.get("label", "")) for u in (co_units or []) if isinstance(u, dict))
        yield [
            number,
            title,
            sources.get(source, source),
            lead_dept or lead_agency or "",
            co,
            received_on.isoformat() if received_on else "",
            due_on.isoformat() if due_on else "",
            importance.get(imp, imp),
            states.get(state, state),
            lights.get(light, light),
            reason,
            str(progress),
            timezone.localtime(created_at).strftime("%Y-%m-%d %H:%M") if created_at else "",
            timezone.localtime(closed_at).strftime("%Y-%m-%d %H:%M") if closed_at else "",
        ]


def write_export(items: Any, target: Any) -> int:
    """Write the items (at most EXPORT_LIMIT) as .xlsx into `target`; the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("督办事项")
    sheet.append([_text_cell(sheet, h) for h in EXPORT_HEADER])
    written = 0
    for row in export_rows(items[:EXPORT_LIMIT]):
        sheet.append([_text_cell(sheet, v) for v in row])
        written += 1
    workbook.save(target)
    return written


@login_required
@require_GET
def supervision_export(request: HttpRequest) -> HttpResponse:
    """Any list of the dashboard as .xlsx (the same filters), streamed from a temporary file."""
    _require_dashboard(request)
    visible = visible_items(request.user)
    f, _, errors = _filters(request, drill=True)
    items = scoped_items(request.user, f, visible=visible if not errors else visible.none())
    items = items.order_by("due_on", "-pk")
    target = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it once sent
    written = write_export(items, target)
    target.seek(0)
    _audit(request, "workflows.supervision_export.download", {**f.params(), "rows": written})
    stamp = timezone.localtime().strftime("%Y%m%d")
    return FileResponse(target, as_attachment=True, filename=f"督办事项-{stamp}.xlsx", content_type=XLSX)


# --- 督办通报 -------------------------------------------------------------------------------------


class BulletinForm(forms.Form):
    month = forms.RegexField(
        label="通报月份", regex=r"^\d{4}-\d{2}$", widget=forms.TextInput(attrs={"type": "month"})
    )
    redo = forms.BooleanField(label="本月已生成过通报，仍然重新生成一份", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["month"].error_messages.update(
            required="请选择通报月份。", invalid="请按 2026-11 的格式填写月份。"
        )

    def clean_month(self) -> date:
        text = self.cleaned_data["month"]
        year, month = (int(p) for p in text.split("-"))
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise forms.ValidationError("请按 2026-11 的格式填写月份。")
        first = date(year, month, 1)
        if first > timezone.localdate():
            raise forms.ValidationError("不能通报尚未开始的月份。")
        return first


def _last_month() -> str:
    first = timezone.localdate().replace(day=1)
    previous = date.fromordinal(first.toordinal() - 1)
    return previous.strftime("%Y-%m")


@login_required
@require_http_methods(["GET", "POST"])
def supervision_bulletin(request: HttpRequest) -> HttpResponse:
    """月度督办通报: preview of the month's text, then a 通报 draft entering the 发文 flow."""
    agency_id = supervising_agency_of(request.user)
    if agency_id is None:
        raise PermissionDenied("只有督查室（督查员）和办公室可以生成督办通报。")
    data = request.POST if request.method == "POST" else (request.GET if "month" in request.GET else None)
    form = BulletinForm(data, initial={"month": _last_month()})
    bulletin = None
    earlier: list[Any] = []
    if form.is_bound and form.is_valid():
        month = form.cleaned_data["month"]
        bulletin = bulletin_for(agency_id, month)
        earlier = earlier_bulletins(agency_id, month)
        if request.method == "POST":
            try:
                document = create_bulletin(
                    actor=request.user, agency_id=agency_id, month=month, redo=form.cleaned_data["redo"]
                )
            except BulletinExists:
                form.add_error("redo", "本月的督办通报已经生成过。如需重新生成，请勾选后再提交。")
            except (FlowError, DocumentError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已生成《{document.title}》草稿，请继续办理发文流程。")
                return redirect("documents:detail", document_id=document.pk)
    return render(
        request,
        "workflows/supervision/bulletin.html",
        {"form": form, "bulletin": bulletin, "earlier": earlier},
    )


urlpatterns = [
    path("supervision/dashboard/", supervision_dashboard, name="supervision_dashboard"),
    path("supervision/dashboard/items/", supervision_dashboard_list, name="supervision_dashboard_list"),
    path("supervision/export.xlsx", supervision_export, name="supervision_export"),
    path("supervision/bulletin/", supervision_bulletin, name="supervision_bulletin"),
]
