"""督办看板 counts kept as they change (D24): the SQL of the triggers that write SupervisionTally,
the hourly rebuild, and the reads the dashboard sums.

Why triggers: items change through services, the light job's bulk_update, queryset updates and COPY
loads; a trigger sees them all, in the transaction of the change. PostgreSQL runs one trigger per
statement with its transition tables (a bulk update of 15,000 lights writes a few dozen summed
rows); SQLite runs one per row. Both execute the same SELECT, built here with each database's date
functions, so the two cannot disagree on a definition.

Rows are only ever inserted by writers (never updated), so two transactions changing the same
department's items do not wait on one tally row or deadlock; a figure is the SUM of its key's rows.
`rebuild` (the hourly job) replaces every row by a fresh count: it keeps the table small and heals
a drift a race between an item's and its units' writers could leave (each trigger reads the other
table as its own snapshot sees it).

Dates: a day or month of a timestamp is the settings.TIME_ZONE day (as TruncDate on the dashboard);
SQLite has no time zones, so it adds the zone's fixed offset (Asia/Shanghai has had no DST since
1991).

The migration (0007) installs the triggers from these builders: changing a definition here means a
new migration that drops and re-creates them.
"""

# The SQL here is put together from constant table and column names and each database's date
# functions; no value is ever formatted into it.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    DateField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, TruncMonth

from workflows.models import OPEN_ITEM_STATES

TALLY = "workflows_supervisiontally"
ITEMS = "workflows_supervisionitem"
UNITS = "workflows_supervisionunit"
COLUMNS = (
    "kind, agency, lead_department, lead_agency, state, light, source, unit_department, unit_agency, "
    "series, month, day, n, closed, late_n, late_days"
)
ITEM_COLUMNS = (
    "id, agency_id, lead_department_id, lead_agency_id, state, light, source, created_at, closed_at, "
    "completed_at, due_on, next_report_on"
)
UNIT_COLUMNS = "item_id, department_id, agency_id, is_lead"
TRIGGER = "workflows_supervision_tally"


def _offset() -> str:
    """The time zone's offset as an SQLite date modifier ("+480 minutes")."""
    minutes = int(ZoneInfo(settings.TIME_ZONE).utcoffset(datetime(2026, 1, 1)).total_seconds() // 60)
    return f"{minutes:+d} minutes"


def _dialect(vendor: str) -> dict[str, str]:
    if vendor == "postgresql":
        tz = settings.TIME_ZONE
        return {
            "done": f"COALESCE((r.completed_at AT TIME ZONE '{tz}')::date, (r.closed_at AT TIME ZONE '{tz}')::date)",
            "days": "(l.done_on - l.due_on)",
            "created_month": f"CAST(to_char(l.created_at AT TIME ZONE '{tz}', 'YYYYMM') AS integer)",
            "closed_month": f"CAST(to_char(l.closed_at AT TIME ZONE '{tz}', 'YYYYMM') AS integer)",
            "due_month": "CAST(to_char(l.due_on, 'YYYYMM') AS integer)",
        }
    off = _offset()
    return {
        "done": f"COALESCE(date(r.completed_at, '{off}'), date(r.closed_at, '{off}'))",
        "days": "CAST(julianday(l.done_on) - julianday(l.due_on) AS INTEGER)",
        "created_month": f"CAST(strftime('%Y%m', l.created_at, '{off}') AS INTEGER)",
        "closed_month": f"CAST(strftime('%Y%m', l.closed_at, '{off}') AS INTEGER)",
        "due_month": "CAST(strftime('%Y%m', l.due_on) AS INTEGER)",
    }


# An item's 超期 no longer changes once it is 办结 (else 销号): (that day − due_on) days, counted
# when > 0 and the item was not 已撤销 — the dashboard's `late` for finished items.
_LATE = (
    "(l.state <> 'terminated' AND l.due_on IS NOT NULL AND l.done_on IS NOT NULL AND l.done_on > l.due_on)"
)
_OPEN = "l.state IN (" + ", ".join(f"'{state}'" for state in sorted(OPEN_ITEM_STATES)) + ")"
# Unfinished: its 超期 grows with the calendar (today − due_on), read by day range, not stored.
_UNFINISHED = "(l.state <> 'terminated' AND l.completed_at IS NULL AND l.closed_at IS NULL)"


def item_delta_sql(vendor: str, rows: str) -> str:
    """INSERT the tally rows of item rows `rows` (columns: sign, then ITEM_COLUMNS): +1 for a row
    that now exists, −1 for one that no longer does. Summed per key; keys that net to zero (an
    update that moved nothing counted) write nothing."""
    d = _dialect(vendor)
    lead = "l.agency_id, COALESCE(l.lead_department_id, 0), COALESCE(l.lead_agency_id, 0)"
    src = f"(SELECT r.*, {d['done']} AS done_on FROM ({rows}) r) l"
    month = f"SELECT 'month', {lead}, '', '', '', 0, 0"
    return f"""
INSERT INTO {TALLY} ({COLUMNS})
SELECT kind, agency, ld, la, st, li, so, ud, ua, series, month, day,
    SUM(n), SUM(closed), SUM(late_n), SUM(late_days)
FROM (
    SELECT 'item' AS kind, l.agency_id AS agency, COALESCE(l.lead_department_id, 0) AS ld,
        COALESCE(l.lead_agency_id, 0) AS la,
        l.state AS st, l.light AS li, l.source AS so, 0 AS ud, 0 AS ua, '' AS series, 0 AS month,
        CAST(NULL AS date) AS day, l.sign AS n,
        CASE WHEN l.closed_at IS NOT NULL THEN l.sign ELSE 0 END AS closed,
        CASE WHEN {_LATE} THEN l.sign ELSE 0 END AS late_n,
        CASE WHEN {_LATE} THEN l.sign * {d["days"]} ELSE 0 END AS late_days
    FROM {src}
    UNION ALL
    {month}, 'created', {d["created_month"]}, NULL, l.sign, 0, 0, 0 FROM {src}
    UNION ALL
    {month}, 'closed', {d["closed_month"]}, NULL, l.sign, 0, 0, 0 FROM {src} WHERE l.closed_at IS NOT NULL
    UNION ALL
    {month}, 'overdue', {d["due_month"]}, NULL, l.sign, 0, 0, 0 FROM {src} WHERE {_LATE}
    UNION ALL
    SELECT 'due', {lead}, '', '', '', 0, 0, '', 0, l.due_on,
        CASE WHEN {_OPEN} THEN l.sign ELSE 0 END, 0, CASE WHEN {_UNFINISHED} THEN l.sign ELSE 0 END, 0
    FROM {src} WHERE l.due_on IS NOT NULL AND ({_OPEN} OR {_UNFINISHED})
    UNION ALL
    SELECT 'report', {lead}, '', '', '', 0, 0, '', 0, l.next_report_on, l.sign, 0, 0, 0
    FROM {src} WHERE l.state = 'handle' AND l.next_report_on IS NOT NULL
    UNION ALL
    SELECT 'co', {lead}, l.state, l.light, '', COALESCE(u.department_id, 0), COALESCE(u.agency_id, 0), '', 0,
        NULL, l.sign, 0, 0, 0
    FROM {src} JOIN {UNITS} u ON u.item_id = l.id AND NOT u.is_lead
) x
GROUP BY kind, agency, ld, la, st, li, so, ud, ua, series, month, day
HAVING SUM(n) <> 0 OR SUM(closed) <> 0 OR SUM(late_n) <> 0 OR SUM(late_days) <> 0
"""


def unit_delta_sql(rows: str) -> str:
    """INSERT the "co" tally rows of unit rows `rows` (columns: sign, then UNIT_COLUMNS), keyed by
    their item as it is now."""
    return f"""
INSERT INTO {TALLY} ({COLUMNS})
SELECT 'co', i.agency_id, COALESCE(i.lead_department_id, 0), COALESCE(i.lead_agency_id, 0), i.state, i.light, '',
    COALESCE(d.department_id, 0), COALESCE(d.agency_id, 0), '', 0, NULL, SUM(d.sign), 0, 0, 0
FROM ({rows}) d JOIN {ITEMS} i ON i.id = d.item_id
WHERE NOT d.is_lead
GROUP BY i.agency_id, i.lead_department_id, i.lead_agency_id, i.state, i.light, d.department_id, d.agency_id
HAVING SUM(d.sign) <> 0
"""


def _pg_rows(table_columns: str, op: str) -> str:
    new = f"SELECT 1 AS sign, {table_columns} FROM new_rows"
    old = f"SELECT -1 AS sign, {table_columns} FROM old_rows"
    return {"INSERT": new, "DELETE": old, "UPDATE": f"{new} UNION ALL {old}"}[op]


def _sqlite_rows(table_columns: str, op: str) -> str:
    def row(sign: int, ref: str) -> str:
        return f"SELECT {sign} AS sign, " + ", ".join(
            f"{ref}.{c.strip()} AS {c.strip()}" for c in table_columns.split(",")
        )

    new, old = row(1, "NEW"), row(-1, "OLD")
    return {"INSERT": new, "DELETE": old, "UPDATE": f"{new} UNION ALL {old}"}[op]


def install_sql(vendor: str) -> list[str]:
    """The statements that create the triggers (PostgreSQL: per statement with transition tables;
    SQLite: per row)."""
    statements = []
    for table, columns, name in ((ITEMS, ITEM_COLUMNS, "item"), (UNITS, UNIT_COLUMNS, "unit")):
        for op in ("INSERT", "UPDATE", "DELETE"):
            trigger = f"{TRIGGER}_{name}_{op.lower()}"
            if vendor == "postgresql":
                rows = _pg_rows(columns, op)
                body = item_delta_sql(vendor, rows) if name == "item" else unit_delta_sql(rows)
                transition = {
                    "INSERT": "NEW TABLE AS new_rows",
                    "DELETE": "OLD TABLE AS old_rows",
                    "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
                }[op]
                statements.append(
                    f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                    f"BEGIN\n{body};\nRETURN NULL;\nEND\n$$"
                )
                statements.append(
                    f"CREATE TRIGGER {trigger} AFTER {op} ON {table} REFERENCING {transition} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
                )
            else:
                rows = _sqlite_rows(columns, op)
                body = item_delta_sql(vendor, rows) if name == "item" else unit_delta_sql(rows)
                statements.append(
                    f"CREATE TRIGGER {trigger} AFTER {op} ON {table} FOR EACH ROW BEGIN {body}; END"
                )
    return statements


def uninstall_sql(vendor: str) -> list[str]:
    statements = []
    for table, name in ((ITEMS, "item"), (UNITS, "unit")):
        for op in ("insert", "update", "delete"):
            trigger = f"{TRIGGER}_{name}_{op}"
            if vendor == "postgresql":
                statements.append(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
                statements.append(f"DROP FUNCTION IF EXISTS {trigger}()")
            else:
                statements.append(f"DROP TRIGGER IF EXISTS {trigger}")
    return statements


def fill_sql(vendor: str) -> str:
    """Count every item (and its 协办 rows) from scratch into the table."""
    return item_delta_sql(vendor, f"SELECT 1 AS sign, {ITEM_COLUMNS} FROM {ITEMS}")


def rebuild() -> int:
    """Replace the change rows by a fresh count (the hourly job); returns the rows written. On
    PostgreSQL the item and unit tables are locked against writers (SHARE) for the count, a second
    or two at 10⁵ items, so no change is counted twice or lost; SQLite has one writer anyway."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {ITEMS}, {UNITS}, {TALLY} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {TALLY}")
        cursor.execute(fill_sql(connection.vendor), None)
        return cursor.rowcount


# --- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadScope:
    """The part of `visible_items(user)` that is a set of whole tally keys — items of the agencies
    she supervises, led by her departments or agencies, or led by a department of an agency her
    分管 covers whole — as a condition on SupervisionItem (`items`) and the same on
    SupervisionTally (`tally`); `units` are the tally's 协办 units through which she sees the rest."""

    items: Q
    tally: Q
    units: Q


def lead_scope(user: Any) -> LeadScope | None:
    """None when no reason of hers is a lead (she is counted item by item)."""
    from officeapp.org.models import Department
    from workflows.access import supervision_reach

    offices, departments, agencies, whole = supervision_reach(user)
    items: list[Q] = []
    tally: list[Q] = []
    units: list[Q] = []
    if offices:
        items.append(Q(agency_id__in=offices))
        tally.append(Q(agency__in=offices))
    if departments:
        items.append(Q(lead_department_id__in=departments))
        tally.append(Q(lead_department__in=departments))
        units.append(Q(unit_department__in=departments))
    if agencies:
        items.append(Q(lead_agency_id__in=agencies))
        tally.append(Q(lead_agency__in=agencies))
        units.append(Q(unit_agency__in=agencies))
    if whole:
        # The 牵头单位 fields and the lead SupervisionUnit row are written together (D24), so
        # "led by one of its departments" is read on the item, as visible_items does.
        of_whole = Department.objects.filter(agency_id__in=whole).values("pk")
        items.append(Q(lead_department_id__in=of_whole))
        tally.append(Q(lead_department__in=of_whole))
        units.append(Q(unit_department__in=of_whole))
    if not items:
        return None
    return LeadScope(_any(items), _any(tally), _any(units) if units else Q(pk__in=[]))


def _any(conditions: list[Q]) -> Q:
    result = conditions[0]
    for condition in conditions[1:]:
        result |= condition
    return result


STATIC_KINDS = ("item", "co", "month")
_KEYS = (
    "kind",
    "lead_department",
    "lead_agency",
    "state",
    "light",
    "source",
    "unit_department",
    "unit_agency",
    "series",
    "month",
)


def _nonzero(rows: Any) -> list[dict[str, Any]]:
    return [r for r in rows if r["total"] or r["closed_total"] or r["late_total"] or r["days_total"]]


def _summed(rows: Any) -> Any:
    return rows.annotate(
        total=Sum("n"), closed_total=Sum("closed"), late_total=Sum("late_n"), days_total=Sum("late_days")
    ).order_by()


EPOCH = date(2000, 1, 1)


def _day_number() -> RawSQL:
    """The tally row's day as a number of days since EPOCH, in SQL (a sum of days late is then
    late × today − Σ late × day, summed by the database instead of a row per day)."""
    if connection.vendor == "postgresql":
        return RawSQL("(day - DATE '2000-01-01')", ())
    return RawSQL("CAST(julianday(day) - julianday('2000-01-01') AS INTEGER)", ())


def tally_rows(scope: LeadScope, today: date, *, since: date | None = None) -> list[dict[str, Any]]:
    """The summed rows of the keys in scope, in one GROUP BY (a few hundred to a few thousand rows
    whatever the number of items; keys that sum to nothing are left out): the item, 协办 and month
    rows, and the calendar-bound ones, read as an index range of days — "due": per 牵头单位, the
    open (total) and unfinished (late_total) items whose deadline passed, by the deadline's month
    (`on`), with Σ unfinished × day (`late_day_sum`), and those due from today to Sunday (`on` =
    that Sunday); "report": per 牵头单位, the 承办 items whose next report day has passed.

    `since` (the first day of the trend's window): month rows before it are left out, and the
    deadlines that passed before it are summed into one "due" row per 牵头单位 with `on` = EPOCH —
    the page shows them only in its totals, and every row read costs the page time."""
    from workflows.models import SupervisionTally

    sunday = today + timedelta(days=6 - today.weekday())
    months = Q(kind="month") if since is None else Q(kind="month", month__gte=since.year * 100 + since.month)
    before = [] if since is None else [When(kind="due", day__lt=since, then=Value(EPOCH))]
    rows = (
        SupervisionTally.objects.filter(scope.tally)
        .filter(
            Q(kind__in=[k for k in STATIC_KINDS if k != "month"])
            | months
            | Q(kind="due", day__lte=sunday)
            | Q(kind="report", day__lt=today)
        )
        .values(*_KEYS)
        .annotate(
            on=Case(
                *before,
                # Cast: PostgreSQL's date_trunc gives a timestamp, which a Case would pass on as one.
                When(kind="due", day__lt=today, then=Cast(TruncMonth("day"), DateField())),
                When(kind="due", then=Value(sunday)),
                default=None,
                output_field=DateField(),
            )
        )
        .values(*_KEYS, "on")
    )
    query = _summed(rows).annotate(
        late_day_sum=Sum(ExpressionWrapper(F("late_n") * _day_number(), output_field=BigIntegerField()))
    )
    return _nonzero(_plain_rows(query))


_NUMBERS = ("lead_department", "lead_agency", "unit_department", "unit_agency", "month")
_SUMS = ("total", "closed_total", "late_total", "days_total", "late_day_sum")


def _plain_rows(query: Any) -> list[dict[str, Any]]:
    """The query's rows read with the bare cursor: a page reads a couple of thousand of them, and
    Django's per-row conversion cost more than the query. Sums become ints (PostgreSQL gives
    numeric) and `on` a date (SQLite gives text)."""
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for r in rows:
        for name in _SUMS:
            r[name] = int(r[name] or 0)
        for name in _NUMBERS:
            r[name] = int(r[name])
        if isinstance(r["on"], str):
            r["on"] = date.fromisoformat(r["on"][:10])
    return rows


def rest_leads(user: Any, scope: LeadScope) -> list[tuple[int, int]]:
    """The 牵头单位 (department id, agency id; 0 = none) of items she sees through a 协办 unit of
    hers although their lead is outside her lead scope, from the tally: usually none, always few."""
    from workflows.models import SupervisionTally

    rows = (
        SupervisionTally.objects.filter(scope.units, kind="co")
        .exclude(scope.tally)
        .values("lead_department", "lead_agency")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return [(r["lead_department"], r["lead_agency"]) for r in rows if r["total"]]


def rest_item_ids(
    user: Any, scope: LeadScope, leads: list[tuple[int, int]], *, visible: Any, limit: int
) -> list[int] | None:
    """The ids of her visible items outside the lead scope, or None past `limit` — one UNION ALL of
    indexed lookups (the items she took part in, instructed, or sees through a unit of hers whose
    lead is one of `leads`), never a pass over the whole table."""
    from workflows.models import SupervisionItem, SupervisionParticipant

    lead_q = Q(pk__in=[0])
    for department_id, agency_id in leads:
        lead_q |= Q(lead_department_id=department_id or None, lead_agency_id=agency_id or None)
    sources = [
        SupervisionItem.objects.filter(
            pk__in=SupervisionParticipant.objects.filter(user=user).values("item_id")
        ),
        SupervisionItem.objects.filter(leader=user),
        # Only items led from outside her scope: `visible` narrows them to the units she sees through.
        visible.filter(lead_q),
    ]
    query = sources[0].exclude(scope.items).values_list("pk", flat=True).order_by()
    query = query.union(
        *(q.exclude(scope.items).values_list("pk", flat=True).order_by() for q in sources[1:]), all=True
    )
    ids = set(query[: limit + 1])
    return sorted(ids) if len(ids) <= limit else None
