"""效能统计 (/workflows/efficiency/) as the office uses it: average time per flow, step and department,
the overdue rate, the twelve-month trend, the tasks behind a bar, and who may look."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from tests.documents.factories import make_document
from workflows.efficiency import by_department, by_flow, by_month, by_step, statistics
from workflows.models import OutgoingProcess

FLOW = "workflows/flows.OutgoingFlow"
URL = "/workflows/efficiency/"


def make_process(
    cast: Any, *, title: str = "关于防汛的通知", deadline: date | None = None, **doc: Any
) -> OutgoingProcess:
    document = make_document(cast, title=title, deadline=deadline, **doc)
    return OutgoingProcess.objects.create(flow_class=FLOW, document=document, status=PROCESS.NEW)


def add_task(
    process: OutgoingProcess,
    step: str,
    owner: Any,
    *,
    days_ago: float,
    hours: float | None,
    status: str | None = None,
) -> Task:
    created = timezone.now() - timedelta(days=days_ago)
    finished = created + timedelta(hours=hours) if hours is not None else None
    return Task.objects.create(
        process=process,
        flow_task=f"{FLOW}.{step}",
        flow_task_type="HUMAN",
        owner=owner,
        status=status or (STATUS.DONE if finished else STATUS.ASSIGNED),
        created=created,
        finished=finished,
        data={"title": process.document.title, "step": step},
    )


def bars(items: list[Any]) -> dict[str, tuple[int, int, float, int]]:
    return {b.key: (b.total, b.finished, round(b.average_hours, 1), b.overdue) for b in items}


@pytest.fixture
def office_stats(cast: Any) -> dict[str, Any]:
    """Two documents of 省府办公厅: one overdue (deadline 10 days ago), one without a deadline."""
    today = timezone.localdate()
    late = make_process(cast, title="逾期的通知", deadline=today - timedelta(days=10))
    calm = make_process(cast, title="没有时限的函")
    add_task(late, "draft", cast.drafter, days_ago=20, hours=2)  # on time
    add_task(late, "dept_review", cast.dept_head, days_ago=15, hours=24 * 6)  # finished after the deadline
    add_task(late, "office_review", cast.office_secretary, days_ago=3, hours=None)  # open past it
    add_task(late, "office_review", cast.office_secretary, days_ago=4, hours=1, status=STATUS.CANCELED)
    add_task(calm, "draft", cast.drafter, days_ago=5, hours=4)
    add_task(calm, "dept_review", cast.dept_head, days_ago=4, hours=None)
    # Another agency's task is not counted.
    return {"late": late, "calm": calm, "today": today}


def test_step_figures_give_average_time_of_finished_tasks_and_count_overdue(
    cast: Any, office_stats: Any
) -> None:
    today = office_stats["today"]
    result = bars(by_step(cast.gov_office, today - timedelta(days=30), today))
    assert result == {
        "draft": (2, 2, 3.0, 0),
        "dept_review": (2, 1, 144.0, 1),
        "office_review": (1, 0, 0.0, 1),
    }
    assert [b.label for b in by_step(cast.gov_office, today - timedelta(days=30), today)] == [
        "拟稿",
        "处室审核",
        "办公室审核",
    ]


def test_department_and_flow_figures_and_the_overdue_rate(cast: Any, office_stats: Any) -> None:
    today = office_stats["today"]
    departments = by_department(cast.gov_office, today - timedelta(days=30), today)
    assert [(b.label, b.total, b.overdue) for b in departments] == [(cast.general_dept.name, 5, 2)]
    assert departments[0].overdue_rate == pytest.approx(0.4)
    flows = by_flow(cast.gov_office, today - timedelta(days=30), today)
    assert [(b.label, b.total, b.finished, b.overdue) for b in flows] == [("发文", 2, 0, 1)]


def test_date_range_bounds_every_figure(cast: Any, office_stats: Any) -> None:
    today = office_stats["today"]
    result = bars(by_step(cast.gov_office, today - timedelta(days=6), today))
    assert result == {"draft": (1, 1, 4.0, 0), "dept_review": (1, 0, 0.0, 0), "office_review": (1, 0, 0.0, 1)}


def test_trend_shows_twelve_months_with_empty_ones_as_zero(cast: Any, office_stats: Any) -> None:
    trend = by_month(cast.gov_office)
    assert len(trend) == 12
    assert trend[-1].key == office_stats["today"].strftime("%Y-%m")
    assert sum(b.total for b in trend) == 5
    assert all(b.total == 0 for b in trend[:10])


def test_another_agencys_tasks_are_not_counted(cast: Any, office_stats: Any) -> None:
    today = office_stats["today"]
    assert statistics(cast.finance, today - timedelta(days=30), today).steps == []


def test_office_director_sees_the_charts_and_the_tables_behind_them(
    cast: Any, sign_in: Any, office_stats: Any
) -> None:
    response = sign_in(cast.office_director).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="efficiency-svg"') == 4 and "各环节平均用时" in html and "处室审核" in html
    assert "6.0 天" in html and "50%" in html  # 处室审核: 144 h average, 1 of 2 overdue
    assert "by=step&amp;key=dept_review#tasks" in html


def test_clicking_a_bar_lists_the_tasks_behind_it(cast: Any, sign_in: Any, office_stats: Any) -> None:
    response = sign_in(cast.office_secretary).get(URL, {"by": "step", "key": "dept_review"})
    lines = response.context["rows_behind"]
    assert [(line["title"], line["owner"], line["overdue"]) for line in lines] == [
        ("没有时限的函", cast.dept_head.real_name, False),
        ("逾期的通知", cast.dept_head.real_name, True),
    ]
    assert "环节：处室审核 的环节" in response.content.decode()


def test_a_month_bar_lists_that_months_tasks(cast: Any, sign_in: Any, office_stats: Any) -> None:
    month = office_stats["today"].strftime("%Y-%m")
    response = sign_in(cast.office_director).get(URL, {"by": "month", "key": month})
    expected = Task.objects.filter(
        created__gte=timezone.make_aware(timezone.datetime.fromisoformat(f"{month}-01"))
    )
    assert len(response.context["rows_behind"]) == expected.exclude(status=STATUS.CANCELED).count()


def test_a_reversed_or_too_long_range_is_refused_in_chinese_and_keeps_what_was_typed(
    cast: Any, sign_in: Any
) -> None:
    client = sign_in(cast.office_director)
    reversed_range = client.get(URL, {"date_from": "2026-05-01", "date_to": "2026-04-01"}).content.decode()
    too_long = client.get(URL, {"date_from": "2024-01-01", "date_to": "2026-01-01"}).content.decode()
    assert "截止日期不能早于起始日期" in reversed_range and 'value="2026-05-01"' in reversed_range
    assert "统计范围最长 366 天" in too_long


@pytest.mark.parametrize("who", ["drafter", "dept_head", "leader", "clerk", "other_clerk", "system_admin"])
def test_people_outside_the_office_get_403(cast: Any, sign_in_verified: Any, who: str) -> None:
    assert sign_in_verified(getattr(cast, who)).get(URL).status_code == 403


def test_outsider_gets_403_and_anonymous_is_sent_to_sign_in(cast: Any, sign_in: Any, client: Any) -> None:
    assert client.get(URL).status_code == 302
    assert sign_in(cast.outsider).get(URL).status_code == 403


def test_the_page_costs_the_same_number_of_queries_with_few_and_many_tasks(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.office_director)
    process = make_process(cast, deadline=timezone.localdate())

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"by": "step", "key": "draft"}).status_code == 200
        return sum(
            "viewflow_task" in q["sql"] or "workflows_outgoingprocess" in q["sql"]
            for q in queries.captured_queries
        )

    for i in range(3):
        add_task(process, "draft", cast.drafter, days_ago=i, hours=1)
    few = count()
    for i in range(60):
        add_task(process, ["draft", "dept_review", "seal"][i % 3], cast.dept_head, days_ago=i * 5, hours=i)
    assert count() == few
