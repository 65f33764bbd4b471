"""The 系统管理员's page for the holiday table: list a year, add/remove days, mark a year maintained."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from officeapp.access import get_or_404
from officeapp.calendar import services
from officeapp.calendar.access import can_manage_calendar
from officeapp.calendar.forms import CalendarDayForm, YearForm
from officeapp.calendar.models import CalendarDay, CalendarYear
from officeapp.calendar.workdays import fallback_warning

WEEKDAYS = "一二三四五六日"


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_calendar(request.user):
        raise PermissionDenied("只有系统管理员可以维护工作日历。")


def _manage_url(year: int) -> str:
    return f"{reverse('calendar:manage')}?year={year}"


def _render(
    request: HttpRequest,
    year: int,
    *,
    day_form: CalendarDayForm | None = None,
    year_form: YearForm | None = None,
    status: int = 200,
) -> HttpResponse:
    days = [
        {"day": d, "weekday": f"周{WEEKDAYS[d.date.weekday()]}"}
        for d in CalendarDay.objects.filter(date__year=year).order_by("date")
    ]
    context: dict[str, Any] = {
        "page_title": "工作日历",
        "year": year,
        "years": list(CalendarYear.objects.select_related("maintained_by").order_by("-year")[:30]),
        "entry": CalendarYear.objects.filter(year=year).select_related("maintained_by").first(),
        "days": days,
        "day_form": day_form or CalendarDayForm(),
        "year_form": year_form or YearForm(initial={"year": year}),
        "fallback_warnings": (fallback_warning(year),),
    }
    return render(request, "calendar/manage.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def manage(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    year = timezone.localdate().year
    if "year" in request.GET:
        form = YearForm(request.GET)
        if not form.is_valid():
            return _render(request, year, year_form=form, status=400)
        year = form.cleaned_data["year"]
    return _render(request, year)


@login_required
@require_POST
def add_day(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = CalendarDayForm(request.POST)
    if not form.is_valid():
        fallback_year = (
            form.cleaned_data.get("date").year if form.cleaned_data.get("date") else timezone.localdate().year
        )
        return _render(request, fallback_year, day_form=form, status=400)
    day = services.set_calendar_day(actor=request.user, **form.cleaned_data)
    messages.success(request, f"已保存：{day.date:%Y-%m-%d} {day.get_kind_display()}（{day.name}）。")
    return redirect(_manage_url(day.date.year))


@login_required
@require_POST
def remove_day(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    day = get_or_404(CalendarDay.objects.all(), pk=pk)
    services.remove_calendar_day(actor=request.user, day=day)
    messages.success(request, f"已删除：{day.date:%Y-%m-%d} {day.name}。")
    return redirect(_manage_url(day.date.year))


@login_required
@require_POST
def mark_year(request: HttpRequest, year: int) -> HttpResponse:
    _require_manager(request)
    form = YearForm({"year": year})
    if not form.is_valid():
        return _render(request, timezone.localdate().year, year_form=form, status=400)
    if request.POST.get("maintained") == "0":
        services.unmark_year(actor=request.user, year=year)
        messages.success(request, f"{year} 年已标记为未维护，期限将按周末计算。")
    else:
        services.mark_year_maintained(actor=request.user, year=year)
        messages.success(request, f"{year} 年节假日安排已标记为已维护。")
    return redirect(_manage_url(year))
