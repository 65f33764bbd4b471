"""督办看板 figures: every number as one GROUP BY (or one aggregate) in SQL over SupervisionItem,
SupervisionUnit and the item's stored light — never a loop over items in Python.

Who sees what: the figures are computed over `workflows.access.visible_items(user)` (a department
head: items her departments lead or help with; a leader: his 分管 portfolio and what he instructed;
the 督查室/office: the agency's), narrowed by the page's filters (ItemFilter).

Definitions (today is the Asia/Shanghai date):
- 在办 (open): state in OPEN_ITEM_STATES; lights are counted over open items only;
- 逾期 (overdue now): open and due_on < today;
- 本周到期 (due this week): open and today <= due_on <= this week's Sunday;
- 反馈逾期 (late with a report): in 承办 and next_report_on < today;
- 已销号 (closed): closed_at set; 完成率 = closed / items (已撤销 items are left out of the rate);
- 超期天数 of an item with a deadline: (办结 day, else 销号 day, else today) − due_on; the average is
  over the items with more than 0 days (平均超期天数);
- the monthly trend (last TREND_MONTHS months): created by created_at, closed by closed_at, and
  overdue by the month of the deadline an item missed (due_on passed before it was 办结/销号).

A bar's click-through is the same ItemFilter with one more condition (`drill`), applied to the
same queryset, so the list has exactly as many rows as the bar says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Avg, Count, DateField, DurationField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from officeapp.access import grants_of
from officeapp.org.models import Portfolio, Role
from workflows.access import supervising_agencies, visible_items
from workflows.models import (
    OPEN_ITEM_STATES,
    Importance,
    ItemState,
    Light,
    SupervisionItem,
    SupervisionSource,
    SupervisionUnit,
)

TREND_MONTHS = 12
LIST_PREVIEW = 10  # rows of the overdue / due-this-week lists on the dashboard itself
DASHBOARD_ROLES = frozenset(
    {Role.SUPERVISOR, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, Role.DEPT_HEAD, Role.LEADER}
)
SERIES = {"created": "新立项", "closed": "销号", "overdue": "逾期"}
_OPEN = sorted(OPEN_ITEM_STATES)


def can_view_dashboard(user: Any) -> bool:
    """Department heads, the 督查员/office and leaders (or anyone with a 分管 portfolio)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if any(g.role in DASHBOARD_ROLES for g in grants_of(user)):
        return True
    return Portfolio.objects.filter(leader=user).exists()


# --- filters --------------------------------------------------------------------------------------


def unit_code(department_id: int | None, agency_id: int | None) -> str:
    """A unit as a query parameter: "d12" (a department) or "a3" (an agency)."""
    return f"d{department_id}" if department_id else f"a{agency_id}"


def parse_unit(code: str) -> tuple[str, int] | None:
    if len(code) < 2 or code[0] not in "da" or not code[1:].isdigit():
        return None
    return ("department" if code[0] == "d" else "agency", int(code[1:]))


def parse_month(text: str) -> date | None:
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class ItemFilter:
    """The page's filters (source, unit, period of 立项, importance) plus one bar's condition."""

    source: str = ""
    importance: str = ""
    unit: str = ""  # takes part, lead or helping: "d12" / "a3"
    date_from: date | None = None  # 立项时间 from (Shanghai day)
    date_to: date | None = None
    # The bar's condition (drill-down); empty on the dashboard itself.
    state: str = ""
    light: str = ""  # implies open
    open: bool = False
    part: str = ""  # a unit of the item, with `role`
    role: str = ""  # "lead" | "co" | "" (either)
    lead: str = ""  # the item's 牵头单位
    overdue: bool = False
    due_week: bool = False
    report_late: bool = False
    closed: bool = False
    counted: bool = False  # not 已撤销 (the per-unit completion table)
    month: str = ""  # "2026-05", with `series`
    series: str = ""

    def base_params(self) -> dict[str, str]:
        params = {"source": self.source, "importance": self.importance, "unit": self.unit}
        if self.date_from:
            params["date_from"] = self.date_from.isoformat()
        if self.date_to:
            params["date_to"] = self.date_to.isoformat()
        return {k: v for k, v in params.items() if v}

    def params(self) -> dict[str, str]:
        params = self.base_params()
        for name in ("state", "light", "part", "role", "lead", "month", "series"):
            if getattr(self, name):
                params[name] = getattr(self, name)
        for name in ("open", "overdue", "due_week", "report_late", "closed", "counted"):
            if getattr(self, name):
                params[name] = "1"
        return params

    def query(self) -> str:
        return urlencode(self.params())

    def drill(self, **condition: Any) -> ItemFilter:
        return replace(self, **condition)

    @property
    def is_drill(self) -> bool:
        return self.params() != self.base_params()


def _unit_rows(code: str, *, role: str = "") -> Q | None:
    parsed = parse_unit(code)
    if parsed is None:
        return None
    kind, pk = parsed
    rows = SupervisionUnit.objects.filter(**{f"{kind}_id": pk})
    if role == "lead":
        rows = rows.filter(is_lead=True)
    elif role == "co":
        rows = rows.filter(is_lead=False)
    return Q(pk__in=rows.values("item_id"))


def _overdue_in_month_q(today: date) -> Q:
    """The deadline passed before the item was 办结 (or 销号); 已撤销 items are not overdue."""
    return (
        Q(due_on__isnull=False, due_on__lt=today)
        & ~Q(state=ItemState.TERMINATED)
        & (
            Q(completed_at__isnull=True, closed_at__isnull=True)
            | Q(completed_at__isnull=False, completed_on__gt=F("due_on"))
            | Q(completed_at__isnull=True, closed_at__isnull=False, closed_on__gt=F("due_on"))
        )
    )


def with_days(items: QuerySet[SupervisionItem]) -> QuerySet[SupervisionItem]:
    """Annotate the Shanghai days of 办结/销号 (TruncDate uses the current time zone)."""
    return items.annotate(completed_on=TruncDate("completed_at"), closed_on=TruncDate("closed_at"))


def overdue_q(today: date) -> Q:
    return Q(state__in=_OPEN, due_on__lt=today)


def due_week_q(today: date) -> Q:
    sunday = today + timedelta(days=6 - today.weekday())
    return Q(state__in=_OPEN, due_on__gte=today, due_on__lte=sunday)


def report_late_q(today: date) -> Q:
    return Q(state=ItemState.HANDLE, next_report_on__lt=today)


def filter_items(
    items: QuerySet[SupervisionItem], f: ItemFilter, *, today: date | None = None
) -> QuerySet[SupervisionItem]:
    """The items of `items` the filter (and its bar condition) selects."""
    today = today or timezone.localdate()
    items = with_days(items)
    if f.source:
        items = items.filter(source=f.source)
    if f.importance:
        items = items.filter(importance=f.importance)
    if f.unit:
        q = _unit_rows(f.unit)
        items = items.filter(q) if q is not None else items.none()
    if f.date_from:
        items = items.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        items = items.filter(created_at__lt=_day_start(f.date_to + timedelta(days=1)))
    if f.state:
        items = items.filter(state=f.state)
    if f.light:
        items = items.filter(light=f.light, state__in=_OPEN)
    if f.open:
        items = items.filter(state__in=_OPEN)
    if f.part:
        q = _unit_rows(f.part, role=f.role)
        items = items.filter(q) if q is not None else items.none()
    if f.lead:
        parsed = parse_unit(f.lead)
        if parsed is None:
            items = items.none()
        else:
            kind, pk = parsed
            items = items.filter(**{f"lead_{kind}_id": pk})
    if f.overdue:
        items = items.filter(overdue_q(today))
    if f.due_week:
        items = items.filter(due_week_q(today))
    if f.report_late:
        items = items.filter(report_late_q(today))
    if f.closed:
        items = items.filter(closed_at__isnull=False)
    if f.counted:
        items = items.exclude(state=ItemState.TERMINATED)
    if f.month:
        first = parse_month(f.month)
        if first is None or f.series not in SERIES:
            return items.none()
        end = next_month(first)
        if f.series == "created":
            items = items.filter(created_at__gte=_day_start(first), created_at__lt=_day_start(end))
        elif f.series == "closed":
            items = items.filter(closed_at__gte=_day_start(first), closed_at__lt=_day_start(end))
        else:
            items = items.filter(_overdue_in_month_q(today), due_on__gte=first, due_on__lt=end)
    return items


def scoped_items(
    user: Any, f: ItemFilter, *, today: date | None = None, visible: QuerySet[SupervisionItem] | None = None
) -> QuerySet[SupervisionItem]:
    """The user's visible items under the filter; pass `visible` to reuse the scope already built."""
    return filter_items(visible if visible is not None else visible_items(user), f, today=today)


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Bar:
    """One bar of a chart and one row of the table behind it; `query` opens its list."""

    key: str
    label: str
    count: int
    query: str


@dataclass
class UnitRow:
    code: str
    label: str
    lead: Bar
    co: Bar
    open: Bar
    red: Bar
    yellow: Bar


@dataclass
class LeadRow:
    """Per 牵头单位: items, 销号, 完成率, 逾期, 反馈逾期, 平均超期天数."""

    code: str
    label: str
    total: Bar
    closed: Bar
    overdue: Bar
    report_late: Bar
    average_days_late: float | None

    @property
    def completion_rate(self) -> float:
        return self.closed.count / self.total.count if self.total.count else 0.0


@dataclass
class MonthRow:
    key: str
    created: Bar
    closed: Bar
    overdue: Bar


@dataclass
class Summary:
    total: Bar
    open: Bar
    overdue: Bar
    due_week: Bar
    report_late: Bar
    closed: Bar


@dataclass
class Dashboard:
    filter: ItemFilter
    today: date
    summary: Summary
    states: list[Bar]
    lights: list[Bar]
    sources: list[Bar]
    units: list[UnitRow]
    leads: list[LeadRow]
    trend: list[MonthRow]
    overdue_items: list[SupervisionItem] = field(default_factory=list)
    due_week_items: list[SupervisionItem] = field(default_factory=list)


def _bar(f: ItemFilter, key: str, label: str, count: int, **condition: Any) -> Bar:
    return Bar(key, label, int(count), f.drill(**condition).query())


def summary(items: QuerySet[SupervisionItem], f: ItemFilter, today: date) -> Summary:
    row = items.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(state__in=_OPEN)),
        overdue=Count("pk", filter=overdue_q(today)),
        due_week=Count("pk", filter=due_week_q(today)),
        report_late=Count("pk", filter=report_late_q(today)),
        closed=Count("pk", filter=Q(closed_at__isnull=False)),
    )
    return Summary(
        total=_bar(f, "total", "督办事项", row["total"]),
        open=_bar(f, "open", "在办", row["open"], open=True),
        overdue=_bar(f, "overdue", "逾期", row["overdue"], overdue=True),
        due_week=_bar(f, "due_week", "本周到期", row["due_week"], due_week=True),
        report_late=_bar(f, "report_late", "反馈逾期", row["report_late"], report_late=True),
        closed=_bar(f, "closed", "已销号", row["closed"], closed=True),
    )


def by_state(items: QuerySet[SupervisionItem], f: ItemFilter) -> list[Bar]:
    counts = dict(items.order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return [
        _bar(f, value, label, counts[value], state=value)
        for value, label in ItemState.choices
        if counts.get(value)
    ]


def by_light(items: QuerySet[SupervisionItem], f: ItemFilter) -> list[Bar]:
    counts = dict(
        items.filter(state__in=_OPEN)
        .order_by()
        .values_list("light")
        .annotate(n=Count("pk"))
        .values_list("light", "n")
    )
    return [_bar(f, value, label, counts.get(value, 0), light=value) for value, label in Light.choices]


def by_source(items: QuerySet[SupervisionItem], f: ItemFilter) -> list[Bar]:
    counts = dict(items.order_by().values_list("source").annotate(n=Count("pk")).values_list("source", "n"))
    return [
        _bar(f, value, label, counts[value], source=value)
        for value, label in SupervisionSource.choices
        if counts.get(value)
    ]


def by_unit(items: QuerySet[SupervisionItem], f: ItemFilter) -> list[UnitRow]:
    """Every unit of the items in scope, lead and helping, with its open items' lights: one GROUP BY
    over SupervisionUnit (indexed on department/agency, item)."""
    rows = (
        SupervisionUnit.objects.filter(item__in=items.values("pk"))
        .values("department_id", "department__name", "agency_id", "agency__name", "is_lead")
        .annotate(
            n=Count("item", distinct=True),
            open=Count("item", distinct=True, filter=Q(item__state__in=_OPEN)),
            red=Count("item", distinct=True, filter=Q(item__state__in=_OPEN, item__light=Light.RED)),
            yellow=Count("item", distinct=True, filter=Q(item__state__in=_OPEN, item__light=Light.YELLOW)),
        )
        .order_by()
    )
    merged: dict[str, dict[str, Any]] = {}
    for r in rows:
        code = unit_code(r["department_id"], r["agency_id"])
        entry = merged.setdefault(
            code,
            {
                "label": r["department__name"] or r["agency__name"] or "",
                "lead": 0,
                "co": 0,
                "open": 0,
                "red": 0,
                "yellow": 0,
            },
        )
        entry["lead" if r["is_lead"] else "co"] += r["n"]
        for key in ("open", "red", "yellow"):
            entry[key] += r[key]
    result = [
        UnitRow(
            code=code,
            label=e["label"],
            lead=_bar(f, code, e["label"], e["lead"], part=code, role="lead"),
            co=_bar(f, code, e["label"], e["co"], part=code, role="co"),
            open=_bar(f, code, e["label"], e["open"], part=code, open=True),
            red=_bar(f, code, e["label"], e["red"], part=code, light=Light.RED),
            yellow=_bar(f, code, e["label"], e["yellow"], part=code, light=Light.YELLOW),
        )
        for code, e in merged.items()
    ]
    return sorted(result, key=lambda u: (-(u.lead.count + u.co.count), u.label))


def _days(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    # SQLite averages the microseconds as a number; PostgreSQL gives an interval.
    return float(value) / 86_400_000_000


def by_lead(items: QuerySet[SupervisionItem], f: ItemFilter, today: date) -> list[LeadRow]:
    """Per 牵头单位 (the item's lead_department/lead_agency, indexed with state and light)."""
    end = Coalesce(
        F("completed_on"), F("closed_on"), Value(today, output_field=DateField()), output_field=DateField()
    )
    late = ExpressionWrapper(end - F("due_on"), output_field=DurationField())
    rows = (
        items.exclude(state=ItemState.TERMINATED)
        .annotate(late=late)
        .values("lead_department_id", "lead_department__name", "lead_agency_id", "lead_agency__name")
        .annotate(
            total=Count("pk"),
            closed=Count("pk", filter=Q(closed_at__isnull=False)),
            overdue=Count("pk", filter=overdue_q(today)),
            report_late=Count("pk", filter=report_late_q(today)),
            average_late=Avg("late", filter=Q(due_on__isnull=False, late__gt=timedelta(0))),
        )
        .order_by()
    )
    result = []
    for r in rows:
        if not (r["lead_department_id"] or r["lead_agency_id"]):
            continue  # not yet assigned a lead unit (登记 before 交办)
        code = unit_code(r["lead_department_id"], r["lead_agency_id"])
        label = r["lead_department__name"] or r["lead_agency__name"] or ""
        result.append(
            LeadRow(
                code=code,
                label=label,
                total=_bar(f, code, label, r["total"], lead=code, counted=True),
                closed=_bar(f, code, label, r["closed"], lead=code, counted=True, closed=True),
                overdue=_bar(f, code, label, r["overdue"], lead=code, overdue=True),
                report_late=_bar(f, code, label, r["report_late"], lead=code, report_late=True),
                average_days_late=_days(r["average_late"]),
            )
        )
    return sorted(result, key=lambda row: (-row.total.count, row.label))


def trend_months(today: date) -> list[date]:
    first = today.replace(day=1)
    months = [first]
    for _ in range(TREND_MONTHS - 1):
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    return list(reversed(months))


def _month_key(value: Any) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%Y-%m") if value else ""


def trend(items: QuerySet[SupervisionItem], f: ItemFilter, today: date) -> list[MonthRow]:
    """Created, closed (销号) and overdue per month over the last TREND_MONTHS: three GROUP BYs."""
    months = trend_months(today)
    start = months[0]

    def grouped(rows: QuerySet[SupervisionItem], column: str) -> dict[str, int]:
        counted = rows.annotate(m=TruncMonth(column)).order_by().values("m").annotate(n=Count("pk"))
        return {_month_key(r["m"]): r["n"] for r in counted}

    created = grouped(items.filter(created_at__gte=_day_start(start)), "created_at")
    closed = grouped(items.filter(closed_at__gte=_day_start(start)), "closed_at")
    overdue = grouped(items.filter(_overdue_in_month_q(today), due_on__gte=start), "due_on")
    rows = []
    for month in months:
        key = month.strftime("%Y-%m")
        rows.append(
            MonthRow(
                key=key,
                created=_bar(f, key, key, created.get(key, 0), month=key, series="created"),
                closed=_bar(f, key, key, closed.get(key, 0), month=key, series="closed"),
                overdue=_bar(f, key, key, overdue.get(key, 0), month=key, series="overdue"),
            )
        )
    return rows


def dashboard(
    user: Any, f: ItemFilter, *, today: date | None = None, visible: QuerySet[SupervisionItem] | None = None
) -> Dashboard:
    """Every figure of the page for `user` under filter `f`: a fixed number of queries."""
    today = today or timezone.localdate()
    items = scoped_items(user, f, today=today, visible=visible)
    lists = items.select_related("lead_department", "lead_agency").order_by("due_on", "pk")
    return Dashboard(
        filter=f,
        today=today,
        summary=summary(items, f, today),
        states=by_state(items, f),
        lights=by_light(items, f),
        sources=by_source(items, f),
        units=by_unit(items, f),
        leads=by_lead(items, f, today),
        trend=trend(items, f, today),
        overdue_items=list(lists.filter(overdue_q(today))[:LIST_PREVIEW]),
        due_week_items=list(lists.filter(due_week_q(today))[:LIST_PREVIEW]),
    )


def unit_choices(visible: QuerySet[SupervisionItem]) -> list[tuple[str, str]]:
    """The units that take part in the items the user sees, for the filter's select (one query)."""
    rows = (
        SupervisionUnit.objects.filter(item__in=visible.values("pk"))
        .values_list("department_id", "department__name", "agency_id", "agency__name")
        .distinct()
        .order_by()
    )
    choices = {unit_code(d, a): (dn or an or "") for d, dn, a, an in rows}
    return sorted(choices.items(), key=lambda c: c[1])


def importance_choices() -> list[tuple[str, str]]:
    return list(Importance.choices)


def supervising_agency_of(user: Any) -> int | None:
    """The agency whose 督办 the user runs: their own department's, if they are its 督查员/office."""
    agencies = supervising_agencies(user)
    own = getattr(getattr(user, "department", None), "agency_id", None)
    if own in agencies:
        return own
    return None
