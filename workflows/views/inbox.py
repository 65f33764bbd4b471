"""The unified inbox page: 待办 / 已办 / 办结 of the viewflow tasks and 待阅 / 已阅 of 传阅
(workflows/inbox.py), with filters, search, sort and paging, and the other registered inbox sources
in their own section.

Read-only, so no service: parse → `inbox_page(request.user, …)` (which only reads the user's own
rows) → render. An htmx request (the live refresh, inbox.js) gets the list alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from officeapp.registries import inbox_sources
from officeapp.workbench.tiles import as_item, head_and_count
from workflows import inbox as inbox_module
from workflows.flows import STEPS
from workflows.inbox import COUNT_CAP, SORTS, TABS, URGENCY_LABELS, InboxQuery, inbox_page
from workflows.inbox import source as own_source

OTHER_SOURCE_LINES = 10
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)
# Each tab asks other sources for the list of the same meaning (protocol in workflows/inbox.py).
# 待阅 asks for their `to_read`; 已阅 for `read` (a source without it is not listed there).
SOURCE_METHODS = {"todo": "to_do", "done": "done", "closed": "completed", "unread": "to_read", "read": "read"}


class InboxFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=list(TABS.items()), required=False, widget=forms.HiddenInput)
    q = forms.CharField(label="标题或文号", max_length=100, required=False, strip=True)
    urgency = forms.ChoiceField(
        label="紧急程度", choices=[("", "全部"), *URGENCY_LABELS.items()], required=False
    )
    step = forms.ChoiceField(label="环节", choices=[("", "全部"), *STEPS], required=False)
    overdue = forms.BooleanField(label="只看超期", required=False)
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(label="排序", choices=list(SORTS.items()), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Chinese refusals for what a person can type into the bar (or into the address).
        self.fields["q"].error_messages["max_length"] = "搜索词最多 %(limit_value)s 个字。"
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "请输入有效的日期，如 2026-01-31。"
        for name in ("urgency", "step", "sort", "tab"):
            self.fields[name].error_messages["invalid_choice"] = "请从列表中选择。"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            # A day at the calendar's edge (0001-01-01, 9999-12-31) cannot become a Shanghai day's
            # bounds (the next day, the UTC instant): refused here instead of a server error.
            if day and not DATE_MIN <= day <= DATE_MAX:
                self.add_error(name, f"请输入 {DATE_MIN.year} 年至 {DATE_MAX.year} 年之间的日期。")
                data.pop(name, None)
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data

    def inbox_query(self, page: int = 1) -> InboxQuery:
        """The query from the valid fields; a refused field falls back to its default."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        ok = {k: v for k, v in data.items() if k not in self.errors}
        return InboxQuery(
            tab=ok.get("tab") or "todo",
            q=ok.get("q") or "",
            urgency=ok.get("urgency") or "",
            step=ok.get("step") or "",
            overdue=bool(ok.get("overdue")),
            date_from=ok.get("date_from"),
            date_to=ok.get("date_to"),
            sort=ok.get("sort") or "newest",
            page=page,
        )


def other_sources(user: Any, tab: str) -> list[dict[str, Any]]:
    """The lists of every other registered source for this tab: one query (or none) each."""
    method = SOURCE_METHODS[tab]
    sections = []
    for key, inbox_source in inbox_sources.items():
        fetch = getattr(inbox_source, method, None)
        if inbox_source is own_source or fetch is None:
            continue
        count, head = head_and_count(fetch(user), OTHER_SOURCE_LINES)
        sections.append(
            {
                "key": key,
                "label": getattr(inbox_source, "label", key),
                "count": count,
                "capped": getattr(count, "capped", False),
                "items": [as_item(i) for i in head],
            }
        )
    return sections


def _page_number(request: HttpRequest) -> int:
    # A page past the end shows the last page (inbox_page clamps); a non-number shows the first.
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    query = form.inbox_query(page=_page_number(request)) if form.is_bound else InboxQuery()
    page = inbox_page(request.user, query)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "result": page,
        "tabs": [(key, label, page.tab_counts.get(key)) for key, label in TABS.items()],
        "others": other_sources(request.user, query.tab),
        "page_params": params.urlencode(),
        "count_cap": COUNT_CAP,
        "scan_cap": inbox_module.SCAN_CAP,
    }
    template = (
        "workflows/inbox/_list.html" if request.headers.get("HX-Request") else "workflows/inbox/page.html"
    )
    return render(request, template, context)


urlpatterns = [path("inbox/", inbox, name="inbox")]
