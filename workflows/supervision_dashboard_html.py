"""督办看板's six bar tables (灯色, 状态, 来源, 单位, 牵头单位, 趋势) as HTML, written in Python.

Why not the template: a whole agency's page has some seven hundred linked numbers, each with its
count twice, its figure name and its list's link. Through the template engine every one of those is
a variable lookup, a localize and an escape, and that cost most of the page's time at 10⁵ items
(docs/benchmarks.md, 督查督办); here a link is one f-string. The markup is the template's as it was:
supervision_dashboard.js draws each chart from its table (`data-value`, the link's `href`), the tests
read `data-figure`, and without JavaScript the tables are the page.

Escaping: unit names and the links' queries go through html.escape (what the template's autoescape
did); figure names are built from choice values and unit codes ("d12"), never from user text.
"""

from __future__ import annotations

from html import escape

from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString, mark_safe

from workflows.supervision_stats import Bar, Dashboard, LeadRow, MonthRow, UnitRow

NO_ITEMS = '<tr><td colspan="{span}" class="muted">{text}</td></tr>'


def _link(href: str, bar: Bar, figure: str, *, value: bool = True) -> str:
    """A bar's number opening its list; `value`: the chart draws it (data-value)."""
    attrs = f' data-value="{bar.count}"' if value else ""
    return f'<a{attrs} data-figure="{figure}" href="{href}?{escape(bar.query)}">{bar.count}</a>'


def _lights(bars: list[Bar], href: str) -> str:
    return "".join(
        f'<tr data-color="{b.key}"><th scope="row"><span class="sv-light sv-light-{b.key}">'
        f"{escape(str(b.label))}</span></th><td>{_link(href, b, f'light-{b.key}')}</td></tr>"
        for b in bars
    )


def _counts(bars: list[Bar], href: str, prefix: str) -> str:
    """The state and source tables: one linked number per row."""
    if not bars:
        return NO_ITEMS.format(span=2, text="暂无督办事项。")
    return "\n".join(
        f'<tr><th scope="row">{escape(str(b.label))}</th><td>{_link(href, b, f"{prefix}-{b.key}")}</td></tr>'
        for b in bars
    )


def _units(rows: list[UnitRow], href: str) -> str:
    if not rows:
        return NO_ITEMS.format(span=6, text="暂无督办事项。")
    return "\n".join(
        f'<tr><th scope="row">{escape(u.label)}</th>'
        f"<td>{_link(href, u.lead, f'unit-lead-{u.code}')}</td>"
        f"<td>{_link(href, u.co, f'unit-co-{u.code}')}</td>"
        f"<td>{_link(href, u.open, f'unit-open-{u.code}', value=False)}</td>"
        f"<td>{_link(href, u.red, f'unit-red-{u.code}', value=False)}</td>"
        f"<td>{_link(href, u.yellow, f'unit-yellow-{u.code}', value=False)}</td></tr>"
        for u in rows
    )


def _rate(r: LeadRow) -> str:
    """完成率 in whole percent, as {% widthratio closed total 100 %} rounded it (half to even)."""
    return str(round(r.closed.count / r.total.count * 100)) if r.total.count else "0"


def _late_days(r: LeadRow) -> str:
    return "—" if r.average_days_late is None else floatformat(r.average_days_late, 1)


def _leads(rows: list[LeadRow], href: str) -> str:
    if not rows:
        return NO_ITEMS.format(span=7, text="暂无已交办的督办事项。")
    return "\n".join(
        f'<tr><th scope="row">{escape(r.label)}</th>'
        f"<td>{_link(href, r.total, f'lead-total-{r.code}')}</td>"
        f"<td>{_link(href, r.closed, f'lead-closed-{r.code}')}</td>"
        f"<td>{_link(href, r.overdue, f'lead-overdue-{r.code}')}</td>"
        f"<td>{_link(href, r.report_late, f'lead-report-late-{r.code}', value=False)}</td>"
        f'<td data-figure="lead-rate-{r.code}">{_rate(r)}%</td>'
        f'<td data-figure="lead-late-days-{r.code}">{_late_days(r)}</td></tr>'
        for r in rows
    )


def _trend(months: list[MonthRow], href: str) -> str:
    return "\n".join(
        f'<tr><th scope="row">{m.key}</th>'
        f"<td>{_link(href, m.created, f'created-{m.key}')}</td>"
        f"<td>{_link(href, m.closed, f'closed-{m.key}')}</td>"
        f"<td>{_link(href, m.overdue, f'overdue-{m.key}')}</td></tr>"
        for m in months
    )


def bar_tables(board: Dashboard, list_url: str) -> dict[str, SafeString]:
    """Each table's <tbody> rows, keyed as the template places them; `list_url` is the list
    behind the bars (each link adds its bar's query)."""
    href = escape(list_url)
    return {
        name: mark_safe(html)  # noqa: S308 — built above, every text from the data escaped
        for name, html in (
            ("lights", _lights(board.lights, href)),
            ("states", _counts(board.states, href, "state")),
            ("sources", _counts(board.sources, href, "source")),
            ("units", _units(board.units, href)),
            ("leads", _leads(board.leads, href)),
            ("trend", _trend(board.trend, href)),
        )
    }
