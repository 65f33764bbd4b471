"""督办看板 after its speed-up (workflows/access.py `visible_items`, workflows/supervision_stats.py):
a whole-agency leader's scope is read from the item's 牵头单位 plus its 协办 rows instead of every unit
row of the agency, and the 协办 counts come from the items joined to their 协办 rows. These tests hold
both to the plain definition, counted item by item in Python, for each kind of viewer and after each
change that moves a light, a deadline, a report or a unit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine

from tests.workflows.test_supervision_dashboard import TODAY, at, build_known_set, make_item

pytestmark = [pytest.mark.django_db]

VIEWERS = ("supervisor", "dept_head", "secretariat_head", "leader", "chief", "finance_director")


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


def person(supervision: Any, who: str) -> Any:
    if who == "finance_director":
        return supervision.flow_cast.finance_director
    return getattr(supervision, who)


def units_of(item: Any) -> tuple[str | None, list[str]]:
    from workflows.supervision_stats import unit_code

    lead = (
        unit_code(item.lead_department_id, item.lead_agency_id)
        if (item.lead_department_id or item.lead_agency_id)
        else None
    )
    co = [unit_code(u.department_id, u.agency_id) for u in item.units.all() if not u.is_lead]
    return lead, co


def expected_scope(user: Any) -> set[int]:
    """Who sees what, as the docstring of visible_items says it, item by item."""
    from officeapp.access import grants_of
    from officeapp.org.models import Portfolio, Role
    from workflows.access import supervising_agencies
    from workflows.models import SupervisionItem, SupervisionParticipant

    offices = set(supervising_agencies(user))
    grants = grants_of(user)
    departments = {g.department_id for g in grants if g.role == Role.DEPT_HEAD and g.department_id}
    agencies = {
        g.agency_id
        for g in grants
        if g.agency_id and g.role in (Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, Role.LEADER)
    }
    whole: set[int] = set()
    for department_id, agency_id in Portfolio.objects.filter(leader=user).values_list(
        "department_id", "agency_id"
    ):
        if department_id:
            departments.add(department_id)
        if agency_id:
            agencies.add(agency_id)
            whole.add(agency_id)
    took_part = set(SupervisionParticipant.objects.filter(user=user).values_list("item_id", flat=True))
    seen = set()
    for item in SupervisionItem.objects.prefetch_related("units__department"):
        units = list(item.units.all())
        if (
            item.pk in took_part
            or item.leader_id == user.pk
            or item.agency_id in offices
            or any(u.department_id in departments for u in units)
            or any(u.agency_id in agencies for u in units)
            or any(u.department_id and u.department.agency_id in whole for u in units)
        ):
            seen.add(item.pk)
    return seen


def expected_figures(item_ids: set[int], today: date) -> dict[str, Any]:
    """The dashboard's counts, item by item."""
    from workflows.models import OPEN_ITEM_STATES, ItemState, SupervisionItem

    sunday = today + timedelta(days=6 - today.weekday())
    summary: Counter[str] = Counter()
    states: Counter[str] = Counter()
    lights: Counter[str] = Counter()
    units: dict[str, Counter[str]] = {}
    for item in SupervisionItem.objects.filter(pk__in=item_ids).prefetch_related("units"):
        is_open = item.state in OPEN_ITEM_STATES
        summary["total"] += 1
        summary["open"] += is_open
        summary["overdue"] += bool(is_open and item.due_on and item.due_on < today)
        summary["due_week"] += bool(is_open and item.due_on and today <= item.due_on <= sunday)
        summary["report_late"] += bool(
            item.state == ItemState.HANDLE and item.next_report_on and item.next_report_on < today
        )
        summary["closed"] += item.closed_at is not None
        states[item.state] += 1
        if is_open:
            lights[item.light] += 1
        lead, co = units_of(item)
        for code, role in [(lead, "lead")] + [(c, "co") for c in co]:
            if code is None:
                continue
            row = units.setdefault(code, Counter())
            row[role] += 1
            if is_open:
                row["open"] += 1
                row[item.light] += 1
    return {
        "summary": dict(summary),
        "states": {k: v for k, v in states.items() if v},
        "lights": dict(lights),
        "units": {code: (c["lead"], c["co"], c["open"], c["red"], c["yellow"]) for code, c in units.items()},
    }


def shown_figures(user: Any, today: date) -> dict[str, Any]:
    from workflows.supervision_stats import ItemFilter, dashboard

    board = dashboard(user, ItemFilter(), today=today)
    s = board.summary
    summary = {
        name: getattr(s, name).count
        for name in ("total", "open", "overdue", "due_week", "report_late", "closed")
    }
    return {
        "summary": {k: v for k, v in summary.items() if v},
        "states": {b.key: b.count for b in board.states},
        "lights": {b.key: b.count for b in board.lights if b.count},
        "units": {
            u.code: (u.lead.count, u.co.count, u.open.count, u.red.count, u.yellow.count) for u in board.units
        },
    }


def assert_every_viewer_sees_the_plain_counts(supervision: Any) -> None:
    from workflows.access import visible_items

    for who in VIEWERS:
        user = person(supervision, who)
        scope = expected_scope(user)
        assert set(visible_items(user).values_list("pk", flat=True)) == scope, who
        expected = expected_figures(scope, TODAY)
        expected["summary"] = {k: v for k, v in expected["summary"].items() if v}
        assert shown_figures(user, TODAY) == expected, who


def test_every_viewer_sees_the_counts_of_their_items_counted_one_by_one(supervision: Any) -> None:
    # given the known set and an item of another agency's lead that one of 办公厅's departments helps with
    known = build_known_set(supervision)
    cast = supervision.cast
    make_item(
        supervision,
        "协办财政厅牵头的资金事项",
        lead=cast.finance,
        co=(cast.secretariat,),
        state="handle",
        light="yellow",
        due_on=date(2026, 6, 20),
        next_report_on=date(2026, 6, 10),
    )

    # then every viewer's figures are those of their items, counted one by one
    assert known.items
    assert_every_viewer_sees_the_plain_counts(supervision)


@pytest.mark.parametrize(
    "change",
    ["light turns red", "deadline passes", "report falls late", "item is 销号", "lead moves to another unit"],
)
def test_the_counts_follow_each_change_of_an_item(supervision: Any, change: str) -> None:
    from workflows.models import SupervisionItem, SupervisionUnit

    known = build_known_set(supervision)
    cast = supervision.cast
    before = shown_figures(supervision.supervisor, TODAY)

    # when one item changes
    c = known.items["C"]
    if change == "light turns red":
        SupervisionItem.objects.filter(pk=c.pk).update(light="red")
    elif change == "deadline passes":
        SupervisionItem.objects.filter(pk=c.pk).update(due_on=date(2026, 6, 16))
    elif change == "report falls late":
        SupervisionItem.objects.filter(pk=c.pk).update(next_report_on=date(2026, 6, 16))
    elif change == "item is 销号":
        SupervisionItem.objects.filter(pk=c.pk).update(
            state="archive", completed_at=at(date(2026, 6, 16)), closed_at=at(TODAY)
        )
    else:
        # as _set_units writes it: the item's 牵头单位 fields and its unit rows together
        SupervisionItem.objects.filter(pk=c.pk).update(lead_department=None, lead_agency=cast.finance)
        SupervisionUnit.objects.filter(item=c, is_lead=True).update(department=None, agency=cast.finance)

    # then the figures moved, and every viewer's are still the plain counts
    assert shown_figures(supervision.supervisor, TODAY) != before
    assert_every_viewer_sees_the_plain_counts(supervision)
