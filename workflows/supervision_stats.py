"""督办看板 figures: every number as one GROUP BY (or one aggregate) in SQL — never a loop over items
in Python. The unfiltered page reads the items a viewer sees as a lead pre-summed from
SupervisionTally (`tallied`, D24; kept by triggers, workflows/supervision_tally.py) and counts only
the rest of her items one by one; a filtered page, and every list behind a bar, count SupervisionItem,
SupervisionUnit and the stored light directly. Both give the same numbers
(tests/workflows/test_supervision_tally.py compares them figure by figure).

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
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from officeapp.access import grants_of
from officeapp.org.models import Agency, Department, Portfolio, Role
from workflows.access import supervising_agencies, visible_item_ids, visible_items
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


def _takes_part(code: str, *, role: str = "") -> Q | None:
    """The unit leads (the item's lead_department/lead_agency) or helps (a 协办 row of
    SupervisionUnit) — the same two sources the unit chart counts."""
    parsed = parse_unit(code)
    if parsed is None:
        return None
    kind, pk = parsed
    lead = Q(**{f"lead_{kind}_id": pk})
    co = Q(pk__in=SupervisionUnit.objects.filter(is_lead=False, **{f"{kind}_id": pk}).values("item_id"))
    return {"lead": lead, "co": co}.get(role, lead | co)


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
        q = _takes_part(f.unit)
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
        q = _takes_part(f.part, role=f.role)
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
    # The units of the items in this view, for the filter's select (no query of its own).
    unit_choices: list[tuple[str, str]] = field(default_factory=list)


_DRILL_TEXT = ("state", "light", "part", "role", "lead", "month", "series")
_DRILL_FLAGS = ("open", "overdue", "due_week", "report_late", "closed", "counted")


def _bar(f: ItemFilter, key: str, label: str, count: int, **condition: Any) -> Bar:
    return Bar(key, label, int(count), _drill_query(f, condition))


def _drill_query(f: ItemFilter, condition: dict[str, Any]) -> str:
    """`f.drill(**condition).query()`, without building a filter per bar: a whole agency's page has
    some seven hundred bars, and replace() + urlencode cost more than its queries. Same parameters,
    same order: the page's own (encoded once per page) then the bar's condition in _DRILL_ORDER; a
    condition on a page filter (来源), or a filter that is itself a bar's, takes the long way."""
    base, plain = _drill_base(f)
    if not plain or not condition.keys() <= _DRILL_CONDITION_NAMES:
        return f.drill(**condition).query()
    parts = [base] if base else []
    for name in sorted(condition, key=_DRILL_ORDER.__getitem__):
        value = condition[name]
        if value:
            parts.append(f"{name}=1" if name in _DRILL_FLAGS else f"{name}={quote_plus(str(value))}")
    return "&".join(parts)


_DRILL_CONDITION_NAMES = frozenset(_DRILL_TEXT + _DRILL_FLAGS)
_DRILL_ORDER = {name: i for i, name in enumerate(_DRILL_TEXT + _DRILL_FLAGS)}


@lru_cache(maxsize=64)
def _drill_base(f: ItemFilter) -> tuple[str, bool]:
    """The page's filter as a query, and whether it has no bar condition of its own."""
    return urlencode(f.base_params()), not f.is_drill


def _late() -> ExpressionWrapper:
    """超期 of an item: (办结 day, else 销号 day, else today) − due_on, as a duration."""
    today = timezone.localdate()
    end = Coalesce(
        F("completed_on"), F("closed_on"), Value(today, output_field=DateField()), output_field=DateField()
    )
    return ExpressionWrapper(end - F("due_on"), output_field=DurationField())


def _duration_days(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    # SQLite sums the microseconds as a number; PostgreSQL gives an interval.
    return float(value) / 86_400_000_000


def item_groups(items: QuerySet[SupervisionItem], today: date) -> list[dict[str, Any]]:
    """THE pass over the items: one GROUP BY (state, light, source, 牵头单位) with the day-dependent
    counts; the tiles, the state/light/source charts, the lead side of the unit chart and the
    per-unit table are all sums of its rows (a few hundred rows, whatever the number of items)."""
    late = Q(due_on__isnull=False, late__gt=timedelta(0)) & ~Q(state=ItemState.TERMINATED)
    return list(
        items.annotate(late=_late())
        # Ids only: grouping by the units' names made PostgreSQL sort every row's text (on disk at
        # 10⁵ items); the few labels are read afterwards by `label_units`.
        .values("state", "light", "source", "lead_department_id", "lead_agency_id")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=overdue_q(today)),
            due_week=Count("pk", filter=due_week_q(today)),
            report_late=Count("pk", filter=report_late_q(today)),
            closed=Count("pk", filter=Q(closed_at__isnull=False)),
            late_n=Count("pk", filter=late),
            late_sum=Sum("late", filter=late),
        )
        .order_by()
    )


def summary(groups: list[dict[str, Any]], f: ItemFilter) -> Summary:
    def total(key: str) -> int:
        return sum(g[key] for g in groups)

    return Summary(
        total=_bar(f, "total", "督办事项", total("n")),
        open=_bar(
            f, "open", "在办", sum(g["n"] for g in groups if g["state"] in OPEN_ITEM_STATES), open=True
        ),
        overdue=_bar(f, "overdue", "逾期", total("overdue"), overdue=True),
        due_week=_bar(f, "due_week", "本周到期", total("due_week"), due_week=True),
        report_late=_bar(f, "report_late", "反馈逾期", total("report_late"), report_late=True),
        closed=_bar(f, "closed", "已销号", total("closed"), closed=True),
    )


def _sum_by(groups: list[dict[str, Any]], key: str, *, open_only: bool = False) -> dict[str, int]:
    counts: dict[str, int] = {}
    for g in groups:
        if open_only and g["state"] not in OPEN_ITEM_STATES:
            continue
        counts[g[key]] = counts.get(g[key], 0) + g["n"]
    return counts


def by_state(groups: list[dict[str, Any]], f: ItemFilter) -> list[Bar]:
    counts = _sum_by(groups, "state")
    return [
        _bar(f, value, label, counts[value], state=value)
        for value, label in ItemState.choices
        if counts.get(value)
    ]


def by_light(groups: list[dict[str, Any]], f: ItemFilter) -> list[Bar]:
    counts = _sum_by(groups, "light", open_only=True)
    return [_bar(f, value, label, counts.get(value, 0), light=value) for value, label in Light.choices]


def by_source(groups: list[dict[str, Any]], f: ItemFilter) -> list[Bar]:
    counts = _sum_by(groups, "source")
    return [
        _bar(f, value, label, counts[value], source=value)
        for value, label in SupervisionSource.choices
        if counts.get(value)
    ]


def _lead_of(g: dict[str, Any]) -> tuple[str, str] | None:
    if not (g["lead_department_id"] or g["lead_agency_id"]):
        return None  # not yet given a lead unit (登记 before 交办)
    return unit_code(g["lead_department_id"], g["lead_agency_id"]), g.get("label", "")


def label_units(groups: list[dict[str, Any]], co: list[dict[str, Any]]) -> None:
    """Give each row its unit's name ("label"): the departments and agencies named in the rows, read
    in one query each (a few dozen rows), whatever the number of items."""
    department_ids = {g["lead_department_id"] for g in groups} | {r["unit_department"] for r in co}
    agency_ids = {g["lead_agency_id"] for g in groups} | {r["unit_agency"] for r in co}
    departments = dict(Department.objects.filter(pk__in=department_ids - {None}).values_list("pk", "name"))
    agencies = dict(Agency.objects.filter(pk__in=agency_ids - {None}).values_list("pk", "name"))
    for g in groups:
        g["label"] = departments.get(g["lead_department_id"]) or agencies.get(g["lead_agency_id"]) or ""
    for r in co:
        r["label"] = departments.get(r["unit_department"]) or agencies.get(r["unit_agency"]) or ""


def co_groups(items: QuerySet[SupervisionItem]) -> list[dict[str, Any]]:
    """The helping side: the 协办 rows of SupervisionUnit of the items in scope, by unit, state and
    light — one GROUP BY, read from the items joined to their 协办 rows (reading the rows and then
    looking their items up in the scope read the scope's items twice)."""
    return list(
        items.annotate(co=FilteredRelation("units", condition=Q(units__is_lead=False)))
        .filter(co__isnull=False)
        .values("state", "light", unit_department=F("co__department_id"), unit_agency=F("co__agency_id"))
        .annotate(n=Count("pk"))
        .order_by()
    )


def by_unit(groups: list[dict[str, Any]], co: list[dict[str, Any]], f: ItemFilter) -> list[UnitRow]:
    """Every unit of the items in scope, lead (the item's 牵头单位) and helping (协办 rows), with its
    open items' lights."""
    merged: dict[str, dict[str, Any]] = {}

    def add(code: str, label: str, role: str, n: int, state: str, light: str) -> None:
        e = merged.setdefault(code, {"label": label, "lead": 0, "co": 0, "open": 0, "red": 0, "yellow": 0})
        e[role] += n
        if state in OPEN_ITEM_STATES:
            e["open"] += n
            if light in (Light.RED, Light.YELLOW):
                e[light] += n

    for g in groups:
        lead = _lead_of(g)
        if lead is not None:
            add(*lead, "lead", g["n"], g["state"], g["light"])
    for r in co:
        label = r.get("label", "")
        add(
            unit_code(r["unit_department"], r["unit_agency"]),
            label,
            "co",
            r["n"],
            r["state"],
            r["light"],
        )
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


def by_lead(groups: list[dict[str, Any]], f: ItemFilter) -> list[LeadRow]:
    """Per 牵头单位, 已撤销 left out: items, 销号, 逾期, 反馈逾期, 平均超期天数."""
    merged: dict[str, dict[str, Any]] = {}
    for g in groups:
        lead = _lead_of(g)
        if lead is None or g["state"] == ItemState.TERMINATED:
            continue
        code, label = lead
        e = merged.setdefault(
            code,
            {"label": label, "n": 0, "closed": 0, "overdue": 0, "report_late": 0, "late_n": 0, "late": 0.0},
        )
        for key in ("n", "closed", "overdue", "report_late", "late_n"):
            e[key] += g[key]
        e["late"] += _duration_days(g["late_sum"])
    result = [
        LeadRow(
            code=code,
            label=e["label"],
            total=_bar(f, code, e["label"], e["n"], lead=code, counted=True),
            closed=_bar(f, code, e["label"], e["closed"], lead=code, counted=True, closed=True),
            overdue=_bar(f, code, e["label"], e["overdue"], lead=code, overdue=True),
            report_late=_bar(f, code, e["label"], e["report_late"], lead=code, report_late=True),
            average_days_late=e["late"] / e["late_n"] if e["late_n"] else None,
        )
        for code, e in merged.items()
    ]
    return sorted(result, key=lambda row: (-row.total.count, row.label))


def trend_months(today: date) -> list[date]:
    first = today.replace(day=1)
    months = [first]
    for _ in range(TREND_MONTHS - 1):
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    return list(reversed(months))


def _month_key(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m")


TrendCounts = tuple[dict[str, int], dict[str, int], dict[str, int]]


def trend_counts(items: QuerySet[SupervisionItem], today: date) -> TrendCounts:
    """Created, closed (销号) and overdue per month ("2026-05") over the last TREND_MONTHS: one
    GROUP BY on (month of 立项, month of 销号, month of the deadline, missed it) over the items
    touching the window — a few hundred groups, summed per series here."""
    start = trend_months(today)[0]
    missed = Case(
        When(_overdue_in_month_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    rows = (
        items.filter(
            Q(created_at__gte=_day_start(start)) | Q(closed_at__gte=_day_start(start)) | Q(due_on__gte=start)
        )
        .annotate(
            cm=TruncMonth("created_at"), xm=TruncMonth("closed_at"), dm=TruncMonth("due_on"), missed=missed
        )
        .values("cm", "xm", "dm", "missed")
        .annotate(n=Count("pk"))
        .order_by()
    )
    created: dict[str, int] = {}
    closed: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for r in rows:
        created[_month_key(r["cm"])] = created.get(_month_key(r["cm"]), 0) + r["n"]
        closed[_month_key(r["xm"])] = closed.get(_month_key(r["xm"]), 0) + r["n"]
        if r["missed"]:
            overdue[_month_key(r["dm"])] = overdue.get(_month_key(r["dm"]), 0) + r["n"]
    return created, closed, overdue


def trend_rows(counts: TrendCounts, f: ItemFilter, today: date) -> list[MonthRow]:
    created, closed, overdue = counts
    result = []
    for month in trend_months(today):
        key = month.strftime("%Y-%m")
        result.append(
            MonthRow(
                key=key,
                created=_bar(f, key, key, created.get(key, 0), month=key, series="created"),
                closed=_bar(f, key, key, closed.get(key, 0), month=key, series="closed"),
                overdue=_bar(f, key, key, overdue.get(key, 0), month=key, series="overdue"),
            )
        )
    return result


def trend(items: QuerySet[SupervisionItem], f: ItemFilter, today: date) -> list[MonthRow]:
    """The monthly trend of `items` (see trend_counts)."""
    return trend_rows(trend_counts(items, today), f, today)


# A scope up to this many items is read once as ids, so the figures' passes look items up by key
# instead of evaluating visible_items' OR of subqueries over the whole table each time.
PINNED_SCOPE = 5000


def pinned(user: Any, visible: QuerySet[SupervisionItem]) -> QuerySet[SupervisionItem]:
    """The same items as `visible` (which must be `visible_items(user)`): as a list of ids when few
    (a department head's; read by `visible_item_ids`), else the query as it is
    (the 督查室's or a leader's whole agency, where every pass reads most rows anyway). Always one
    query, so the page's count stays constant."""
    ids = visible_item_ids(user, limit=PINNED_SCOPE)
    if ids is not None:
        return SupervisionItem.objects.filter(pk__in=sorted(ids))
    return visible


def dashboard(
    user: Any,
    f: ItemFilter,
    *,
    today: date | None = None,
    visible: QuerySet[SupervisionItem] | None = None,
    use_tally: bool = True,
) -> Dashboard:
    """Every figure of the page for `user` under filter `f`. Unfiltered, the counts of the items
    she sees as a lead are read pre-summed (`tallied`); with a filter, or when the rest of her
    scope is large, five passes over the items in scope (the grouped counts, the 协办 rows, the
    trend, the two short lists) — either way a fixed number of queries, whatever the items."""
    today = today or timezone.localdate()
    visible = visible if visible is not None else visible_items(user)
    if use_tally and not f.params():
        board = tallied(user, f, today=today, visible=visible)
        if board is not None:
            return board
    items = scoped_items(user, f, today=today, visible=pinned(user, visible))
    groups = item_groups(items, today)
    co = co_groups(items)
    label_units(groups, co)
    lists = items.select_related("lead_department", "lead_agency").order_by("due_on", "pk")
    return _board(f, today, groups, co, trend(items, f, today), lists)


def _board(
    f: ItemFilter,
    today: date,
    groups: list[dict[str, Any]],
    co: list[dict[str, Any]],
    months: list[MonthRow],
    lists: QuerySet[SupervisionItem],
) -> Dashboard:
    units = by_unit(groups, co, f)
    return Dashboard(
        filter=f,
        today=today,
        summary=summary(groups, f),
        states=by_state(groups, f),
        lights=by_light(groups, f),
        sources=by_source(groups, f),
        units=units,
        leads=by_lead(groups, f),
        trend=months,
        overdue_items=list(lists.filter(overdue_q(today))[:LIST_PREVIEW]),
        due_week_items=list(lists.filter(due_week_q(today))[:LIST_PREVIEW]),
        unit_choices=sorted(((u.code, u.label) for u in units), key=lambda c: c[1]),
    )


# --- the same figures from the tally (D24) --------------------------------------------------------


def _unit_id(value: int) -> int | None:
    return value or None  # the tally writes 0 for "none"


def tallied(
    user: Any, f: ItemFilter, *, today: date, visible: QuerySet[SupervisionItem] | None = None
) -> Dashboard | None:
    """The unfiltered dashboard from the tally (D24): the items `user` sees as a lead (`lead_scope`)
    are read pre-summed — the calendar-bound counts as a range of deadline and report days — and
    the rest of her items (协办 of another lead, participant, instructing leader; disjoint from those)
    are counted item by item as on the live path. None (count live) when the rest exceeds
    PINNED_SCOPE or she has no lead scope. `visible`: visible_items(user), if already built."""
    from workflows.supervision_tally import lead_scope, rest_item_ids, rest_leads, tally_rows

    scope = lead_scope(user)
    if scope is None:
        return None
    visible = visible if visible is not None else visible_items(user)
    rest_ids = rest_item_ids(user, scope, rest_leads(user, scope), visible=visible, limit=PINNED_SCOPE)
    if rest_ids is None:
        return None
    # Never an empty IN (Django would skip the query): the page's query count stays the same.
    rest = with_days(SupervisionItem.objects.filter(pk__in=rest_ids or [0]))

    groups: list[dict[str, Any]] = []
    co: list[dict[str, Any]] = []
    created: dict[str, int] = {}
    closed: dict[str, int] = {}
    overdue: dict[str, int] = {}
    series = {"created": created, "closed": closed, "overdue": overdue}
    dated: list[dict[str, Any]] = []
    for r in tally_rows(scope, today, since=trend_months(today)[0]):
        if r["kind"] in ("due", "report"):
            dated.append(r)
            continue
        lead = {
            "lead_department_id": _unit_id(r["lead_department"]),
            "lead_agency_id": _unit_id(r["lead_agency"]),
        }
        if r["kind"] == "item":
            groups.append(
                {
                    "state": r["state"],
                    "light": r["light"],
                    "source": r["source"],
                    **lead,
                    "n": r["total"],
                    "overdue": 0,
                    "due_week": 0,
                    "report_late": 0,
                    "closed": r["closed_total"],
                    "late_n": r["late_total"],
                    "late_sum": timedelta(days=r["days_total"]),
                }
            )
        elif r["kind"] == "co":
            co.append(
                {
                    "state": r["state"],
                    "light": r["light"],
                    "unit_department": _unit_id(r["unit_department"]),
                    "unit_agency": _unit_id(r["unit_agency"]),
                    "n": r["total"],
                }
            )
        elif r["kind"] == "month" and r["series"] in series:
            key = f"{r['month'] // 100:04d}-{r['month'] % 100:02d}"
            series[r["series"]][key] = series[r["series"]].get(key, 0) + r["total"]
    groups += _dated_groups(dated, today, overdue)
    groups += item_groups(rest, today)
    co += co_groups(rest)
    label_units(groups, co)
    for extra, counts in zip(series.values(), trend_counts(rest, today), strict=True):
        for key, n in counts.items():
            extra[key] = extra.get(key, 0) + n
    lists = (
        SupervisionItem.objects.filter(scope.items | Q(pk__in=rest_ids or [0]))
        .select_related("lead_department", "lead_agency")
        .order_by("due_on", "pk")
    )
    return _board(f, today, groups, co, trend_rows((created, closed, overdue), f, today), lists)


def _dated_groups(
    rows: list[dict[str, Any]], today: date, overdue_by_month: dict[str, int]
) -> list[dict[str, Any]]:
    """The tally's day rows as rows of no state, light or source (so they add to the per-unit and
    summary figures and to nothing else): 逾期, 本周到期, 反馈逾期 and the running 超期 per 牵头单位;
    unfinished items past their deadline also go to the trend's 逾期 by the deadline's month."""
    from workflows.supervision_tally import EPOCH

    window = trend_months(today)[0]
    today_number = (today - EPOCH).days
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    for r in rows:
        e = merged.setdefault(
            (r["lead_department"], r["lead_agency"]),
            {
                "state": "",
                "light": "",
                "source": "",
                "lead_department_id": _unit_id(r["lead_department"]),
                "lead_agency_id": _unit_id(r["lead_agency"]),
                "n": 0,
                "closed": 0,
                "overdue": 0,
                "due_week": 0,
                "report_late": 0,
                "late_n": 0,
                "late_sum": timedelta(0),
            },
        )
        if r["kind"] == "report":
            e["report_late"] += r["total"]
        elif r["on"] < today:  # deadline passed: `on` is the deadline's month
            e["overdue"] += r["total"]
            e["late_n"] += r["late_total"]
            e["late_sum"] += timedelta(days=r["late_total"] * today_number - (r["late_day_sum"] or 0))
            if r["late_total"] and r["on"] >= window:
                key = r["on"].strftime("%Y-%m")
                overdue_by_month[key] = overdue_by_month.get(key, 0) + r["late_total"]
        else:  # due from today to Sunday
            e["due_week"] += r["total"]
    return list(merged.values())


def importance_choices() -> list[tuple[str, str]]:
    return list(Importance.choices)


def supervising_agency_of(user: Any) -> int | None:
    """The agency whose 督办 the user runs: their own department's, if they are its 督查员/office."""
    agencies = supervising_agencies(user)
    own = getattr(getattr(user, "department", None), "agency_id", None)
    if own in agencies:
        return own
    return None
