"""督办看板 counts kept as they change (workflows/supervision_tally.py, D24): after every kind of change
— 立项, each flow step to 销号 and 归档, the lights job, queryset and bulk writes, deletes, a lead
moved, COPY loads on PostgreSQL, the hourly rebuild — the stored tally is a fresh count of the items,
counted here one by one in Python; and the unfiltered dashboard read from it shows, figure for
figure and on later days too, what the per-item count shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from tests.workflows.test_supervision_dashboard import TODAY, at, build_known_set, make_item
from tests.workflows.test_supervision_dashboard_scope import VIEWERS, person

pytestmark = [pytest.mark.django_db]

POSTGRES_ONLY = "COPY 和按语句触发器只在 PostgreSQL 上测试：请设置 DATABASE_URL=postgres://…"
Key = tuple[Any, ...]


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


def _local_day(value: datetime | None) -> date | None:
    return timezone.localtime(value).date() if value is not None else None


def _month(day: date) -> int:
    return day.year * 100 + day.month


def counted_one_by_one() -> dict[Key, tuple[int, int, int, int]]:
    """The tally as D24 defines it, item by item: (n, 销号, late, days late) per key."""
    from workflows.models import OPEN_ITEM_STATES, SupervisionItem

    totals: dict[Key, Counter[str]] = {}

    def add(key: Key, **values: int) -> None:
        totals.setdefault(key, Counter()).update(values)

    for item in SupervisionItem.objects.prefetch_related("units"):
        lead = (item.agency_id, item.lead_department_id or 0, item.lead_agency_id or 0)
        done = _local_day(item.completed_at) or _local_day(item.closed_at)
        late = (
            item.state != "terminated" and item.due_on is not None and done is not None and done > item.due_on
        )
        add(
            ("item", *lead, item.state, item.light, item.source, 0, 0, "", 0, None),
            n=1,
            closed=item.closed_at is not None,
            late_n=late,
            late_days=(done - item.due_on).days if late else 0,
        )
        month = ("month", *lead, "", "", "", 0, 0)
        add((*month, "created", _month(_local_day(item.created_at)), None), n=1)
        if item.closed_at is not None:
            add((*month, "closed", _month(_local_day(item.closed_at)), None), n=1)
        if late:
            add((*month, "overdue", _month(item.due_on), None), n=1)
        is_open = item.state in OPEN_ITEM_STATES
        unfinished = item.state != "terminated" and item.completed_at is None and item.closed_at is None
        if item.due_on is not None and (is_open or unfinished):
            add(("due", *lead, "", "", "", 0, 0, "", 0, item.due_on), n=is_open, late_n=unfinished)
        if item.state == "handle" and item.next_report_on is not None:
            add(("report", *lead, "", "", "", 0, 0, "", 0, item.next_report_on), n=1)
        for unit in item.units.all():
            if not unit.is_lead:
                unit_ids = (unit.department_id or 0, unit.agency_id or 0)
                add(("co", *lead, item.state, item.light, "", *unit_ids, "", 0, None), n=1)
    return {
        key: (c["n"], c["closed"], c["late_n"], c["late_days"])
        for key, c in totals.items()
        if any(c.values())
    }


def stored() -> dict[Key, tuple[int, int, int, int]]:
    from django.db.models import Sum

    from workflows.models import SupervisionTally

    keys = (
        "kind",
        "agency",
        "lead_department",
        "lead_agency",
        "state",
        "light",
        "source",
        "unit_department",
        "unit_agency",
        "series",
        "month",
        "day",
    )
    rows = SupervisionTally.objects.values(*keys).annotate(
        a=Sum("n"), b=Sum("closed"), c=Sum("late_n"), d=Sum("late_days")
    )
    return {
        tuple(r[k] for k in keys): (r["a"], r["b"], r["c"], r["d"])
        for r in rows
        if any((r["a"], r["b"], r["c"], r["d"]))
    }


def assert_tally_is_a_fresh_count() -> None:
    assert stored() == counted_one_by_one()


def assert_the_tallied_page_shows_the_per_item_figures(supervision: Any, today: date = TODAY) -> None:
    """Every viewer's unfiltered dashboard: from the tally (when she has a lead scope) and counted
    item by item give the same figures, bars, lists and trend."""
    from workflows.access import visible_items
    from workflows.supervision_stats import ItemFilter, dashboard, tallied

    read_from_tally = 0
    for who in VIEWERS:
        user = person(supervision, who)
        live = dashboard(user, ItemFilter(), today=today, use_tally=False)
        board = tallied(user, ItemFilter(), today=today, visible=visible_items(user))
        if board is None:
            continue
        read_from_tally += 1
        assert board == live, who
    assert read_from_tally >= 4  # the supervisor, the heads and the leaders at least


def test_the_known_set_is_counted_and_every_viewer_reads_the_same_figures_from_it(supervision: Any) -> None:
    # given the dashboard's known set (every state, finished late and on time, 协办, another agency's lead)
    build_known_set(supervision)

    # then the tally is its fresh count, and each viewer's page shows the per-item figures
    assert_tally_is_a_fresh_count()
    assert_the_tallied_page_shows_the_per_item_figures(supervision)


def test_days_later_the_calendar_bound_figures_move_and_still_match(supervision: Any) -> None:
    from workflows.supervision_stats import ItemFilter, dashboard

    build_known_set(supervision)
    before = dashboard(supervision.supervisor, ItemFilter(), today=TODAY)

    # when a month passes without a single write (B, C and E fall overdue, A's lateness grows)
    later = TODAY + timedelta(days=31)
    with time_machine.travel(at(later, 10), tick=False):
        after = dashboard(supervision.supervisor, ItemFilter(), today=later)
        assert_the_tallied_page_shows_the_per_item_figures(supervision, later)

    # then 逾期 and the average days late moved although no tally row was written
    assert after.summary.overdue.count == before.summary.overdue.count + 3
    general = {row.label: row for row in after.leads}["综合处"]
    assert general.average_days_late == pytest.approx((36 + 29) / 2)


@pytest.mark.parametrize(
    "change",
    [
        "light turns red (queryset update)",
        "deadline passes",
        "report falls late",
        "item is 销号 late",
        "lead moves to another agency",
        "协办 unit added",
        "协办 unit removed",
        "item deleted",
        "items created in bulk",
        "lights bulk_update",
    ],
)
def test_each_kind_of_write_keeps_the_tally_a_fresh_count(supervision: Any, change: str) -> None:
    from workflows.models import SupervisionItem, SupervisionUnit

    known = build_known_set(supervision)
    cast = supervision.cast
    c = known.items["C"]

    # when
    if change == "light turns red (queryset update)":
        SupervisionItem.objects.filter(pk=c.pk).update(light="red")
    elif change == "deadline passes":
        SupervisionItem.objects.filter(pk=c.pk).update(due_on=date(2026, 6, 16))
    elif change == "report falls late":
        SupervisionItem.objects.filter(pk=c.pk).update(next_report_on=date(2026, 6, 16))
    elif change == "item is 销号 late":
        SupervisionItem.objects.filter(pk=c.pk).update(
            state="archive", completed_at=at(date(2026, 7, 20)), closed_at=at(date(2026, 7, 21))
        )
    elif change == "lead moves to another agency":
        SupervisionItem.objects.filter(pk=c.pk).update(lead_department=None, lead_agency=cast.finance)
        SupervisionUnit.objects.filter(item=c, is_lead=True).update(department=None, agency=cast.finance)
    elif change == "协办 unit added":
        SupervisionUnit.objects.create(item=known.items["B"], department=cast.secretariat, is_lead=False)
    elif change == "协办 unit removed":
        SupervisionUnit.objects.filter(item=known.items["A"], is_lead=False).delete()
    elif change == "item deleted":
        known.items["C"].delete()
    elif change == "items created in bulk":
        template = SupervisionItem.objects.get(pk=c.pk)
        fresh = []
        for n in range(3):
            template.pk = None
            template.number = f"督〔2026〕{10 + n}号"
            template.light = ("green", "yellow", "red")[n]
            fresh.append(
                SupervisionItem(
                    **{f.attname: getattr(template, f.attname) for f in SupervisionItem._meta.concrete_fields}
                )
            )
        made = SupervisionItem.objects.bulk_create(fresh)
        # each with its lead unit row, as _set_units writes it, and a 协办 row
        SupervisionUnit.objects.bulk_create(
            [SupervisionUnit(item=item, department=cast.secretariat, is_lead=True) for item in made]
            + [SupervisionUnit(item=item, department=cast.general_dept, is_lead=False) for item in made]
        )
    else:
        items = list(SupervisionItem.objects.filter(state="handle"))
        for item in items:
            item.light = "yellow"
        SupervisionItem.objects.bulk_update(items, ["light"])

    # then
    assert_tally_is_a_fresh_count()
    assert_the_tallied_page_shows_the_per_item_figures(supervision)


def test_the_flow_from_initiate_to_archive_keeps_the_tally_a_fresh_count(supervision: Any) -> None:
    from tests.workflows.test_supervision_flow import act, complete_by_report, new_item, to_handle
    from workflows.models import Decision
    from workflows.supervision import sign_off_report, write_report
    from workflows.supervision_lights import recompute_lights

    s = supervision
    item = new_item(s)  # 立项, with a 协办 unit
    assert_tally_is_a_fresh_count()
    to_handle(s, item)  # 登记编号 … 交办, 签收
    assert_tally_is_a_fresh_count()
    sign_off_report(
        write_report(item, actor=s.general_staff, text="已召开协调会", percentage=30), actor=s.dept_head
    )
    # the lights job, a month and a half on: the deadline has passed
    with time_machine.travel(at(TODAY + timedelta(days=45), 10), tick=False):
        recompute_lights()
        assert_tally_is_a_fresh_count()
        complete_by_report(s, item, "初步完成")
        act(item, "review", s.supervisor, decision=Decision.DISAGREE, opinion="请补充数据")
        assert_tally_is_a_fresh_count()
        complete_by_report(s, item, "已补充数据，全部完成")
        act(item, "review", s.supervisor, opinion="审核通过")
        act(item, "leader_review", s.leader, opinion="已阅，同意销号")
        act(item, "close", s.supervisor)  # 销号, finished late
        assert_tally_is_a_fresh_count()
        act(item, "archive", s.archivist, retention="10y")
        assert_tally_is_a_fresh_count()
        assert_the_tallied_page_shows_the_per_item_figures(s, TODAY + timedelta(days=45))


def test_the_hourly_rebuild_compacts_the_change_rows_to_the_same_counts(supervision: Any) -> None:
    from workflows.models import SupervisionItem, SupervisionTally
    from workflows.supervision_tasks import rebuild_tally_job

    known = build_known_set(supervision)
    for light in ("red", "yellow", "green", "red"):
        SupervisionItem.objects.filter(pk=known.items["B"].pk).update(light=light)
    rows_before = SupervisionTally.objects.count()
    counts = stored()

    summary = rebuild_tally_job()

    assert SupervisionTally.objects.count() < rows_before
    assert summary == f"tally {SupervisionTally.objects.count()} rows"
    assert stored() == counts
    assert_tally_is_a_fresh_count()


def test_a_new_item_after_the_rebuild_is_counted_on_top_of_it(supervision: Any) -> None:
    from workflows.supervision_tally import rebuild

    build_known_set(supervision)
    rebuild()
    make_item(
        supervision, "重建之后立项的事项", lead=supervision.cast.general_dept, state="handle", light="red"
    )

    assert_tally_is_a_fresh_count()
    assert_the_tallied_page_shows_the_per_item_figures(supervision)


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=POSTGRES_ONLY)
def test_a_copy_load_is_counted_by_the_statement_triggers(supervision: Any) -> None:
    from tests.bench.supervision_data import build_supervision_data

    # given items, units and reports loaded with COPY (as the benchmark loads 10⁵)
    cast = supervision.cast
    build_supervision_data(
        items=120,
        reports=300,
        agency=cast.gov_office,
        departments=[cast.general_dept, cast.secretariat],
        today=TODAY,
    )

    # then they are counted like items the services write
    assert_tally_is_a_fresh_count()
    assert_the_tallied_page_shows_the_per_item_figures(supervision)


def test_a_viewer_whose_other_items_are_too_many_is_counted_item_by_item(
    supervision: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows import supervision_stats
    from workflows.supervision_stats import ItemFilter, dashboard, tallied

    # given a department head who helps with C, led by another department, and no room for it
    build_known_set(supervision)
    monkeypatch.setattr(supervision_stats, "PINNED_SCOPE", 0)
    head = supervision.dept_head

    # then her page is not read from the tally, and shows the same figures counted live
    assert tallied(head, ItemFilter(), today=TODAY) is None
    board = dashboard(head, ItemFilter(), today=TODAY)
    assert board == dashboard(head, ItemFilter(), today=TODAY, use_tally=False)
    assert board.summary.total.count == 4  # A, B, F she leads; C she helps with
