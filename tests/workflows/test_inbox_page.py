"""The 待办 / 已办 / 办结 page (/workflows/inbox/) as a person uses it: their own tasks and the group
tasks they may claim, filters, search, sort, paging, the other sources, and a fixed query count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from officeapp.registries import inbox_sources
from workflows.models import TaskCandidate

FLOW = "workflows/flows.OutgoingFlow"
URL = "/workflows/inbox/"


def make_task(
    owner: Any,
    title: str,
    *,
    status: str = STATUS.ASSIGNED,
    step: str = "dept_review",
    days_ago: float = 0,
    done_after_days: float = 0.01,
    process: Process | None = None,
    process_done: bool = False,
    **data: Any,
) -> Task:
    created = timezone.now() - timedelta(days=days_ago)
    finished = created + timedelta(days=done_after_days) if status == STATUS.DONE else None
    if process is None:
        process = Process.objects.create(
            flow_class=FLOW,
            created=created,
            status=PROCESS.DONE if process_done else PROCESS.NEW,
            finished=finished if process_done else None,
        )
    task = Task.objects.create(
        process=process,
        flow_task=f"{FLOW}.{step}",
        flow_task_type="HUMAN",
        owner=owner,
        status=status,
        created=created,
        finished=finished,
        data={"title": title, "step": step, "step_label": {"draft": "拟稿"}.get(step, "处室审核"), **data},
    )
    return task


def titles(response: Any) -> list[str]:
    return [row.title for row in response.context["result"].rows]


def test_anonymous_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_person_sees_own_to_do_with_number_step_and_urgency_and_not_anyone_elses(
    cast: Any, sign_in: Any
) -> None:
    make_task(cast.drafter, "关于做好防汛工作的通知", doc_number="粤府办〔2026〕12号", urgency="extra_urgent")
    make_task(cast.outsider, "关于教育经费的请示")

    response = sign_in(cast.drafter).get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert titles(response) == ["关于做好防汛工作的通知"]
    assert "粤府办〔2026〕12号" in html and "处室审核" in html and "特急" in html
    assert "关于教育经费的请示" not in html


def test_outsider_sees_an_empty_inbox_not_the_drafters_tasks(cast: Any, sign_in: Any) -> None:
    make_task(cast.drafter, "关于做好防汛工作的通知")
    response = sign_in(cast.outsider).get(URL)
    assert response.status_code == 200 and titles(response) == []
    assert "暂无待办事项" in response.content.decode()


def test_group_task_is_in_every_candidates_to_do_until_someone_claims_it(cast: Any, sign_in: Any) -> None:
    task = make_task(None, "请各位处长阅处的函", status=STATUS.NEW)
    TaskCandidate.objects.create(task=task, user=cast.dept_head)
    TaskCandidate.objects.create(task=task, user=cast.drafter)

    for person in (cast.dept_head, cast.drafter):
        response = sign_in(person).get(URL)
        assert titles(response) == ["请各位处长阅处的函"]
        assert "可抢办" in response.content.decode()
    assert titles(sign_in(cast.outsider).get(URL)) == []

    Task.objects.filter(pk=task.pk).update(owner=cast.dept_head, status=STATUS.ASSIGNED)

    assert titles(sign_in(cast.drafter).get(URL)) == []
    claimed = sign_in(cast.dept_head).get(URL)
    assert titles(claimed) == ["请各位处长阅处的函"] and "可抢办" not in claimed.content.decode()


def test_done_tab_lists_finished_tasks_latest_first(cast: Any, sign_in: Any) -> None:
    make_task(cast.drafter, "上周办完的函", status=STATUS.DONE, days_ago=7)
    make_task(cast.drafter, "昨天办完的通知", status=STATUS.DONE, days_ago=1)
    make_task(cast.drafter, "还在办的报告")

    response = sign_in(cast.drafter).get(URL, {"tab": "done"})

    assert titles(response) == ["昨天办完的通知", "上周办完的函"]
    assert response.context["result"].tab_counts == {"todo": 1, "done": 2, "unread": 0, "read": 0}


def test_closed_tab_lists_each_finished_process_once_and_not_running_ones(cast: Any, sign_in: Any) -> None:
    first = make_task(
        cast.drafter, "已办结的通知", status=STATUS.DONE, step="draft", days_ago=3, process_done=True
    )
    # The drafter acted twice in the same process (退回 and re-draft): still one line.
    make_task(
        cast.drafter, "已办结的通知", status=STATUS.DONE, step="draft", days_ago=2, process=first.process
    )
    make_task(cast.drafter, "仍在流转的报告", status=STATUS.DONE, days_ago=1)

    response = sign_in(cast.drafter).get(URL, {"tab": "closed"})

    assert titles(response) == ["已办结的通知"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"urgency": "urgent"}, ["加急的请示"]),
        ({"step": "draft"}, ["待拟稿的函"]),
        ({"q": "请示"}, ["加急的请示"]),
        ({"q": "〔2026〕7"}, ["有文号的通知"]),
        ({"overdue": "on"}, ["超期的通知"]),
    ],
)
def test_filters_and_search_narrow_the_to_do_list(
    cast: Any, sign_in: Any, params: dict[str, str], expected: list[str]
) -> None:
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    make_task(cast.drafter, "加急的请示", urgency="urgent", deadline=tomorrow)
    make_task(cast.drafter, "待拟稿的函", step="draft")
    make_task(cast.drafter, "有文号的通知", doc_number="粤府办〔2026〕7号")
    make_task(cast.drafter, "超期的通知", deadline=yesterday)

    response = sign_in(cast.drafter).get(URL, params)

    assert titles(response) == expected


def test_done_task_finished_after_its_deadline_counts_as_overdue(cast: Any, sign_in: Any) -> None:
    deadline = (timezone.localdate() - timedelta(days=5)).isoformat()
    make_task(
        cast.drafter, "拖期办完的函", status=STATUS.DONE, days_ago=6, done_after_days=3, deadline=deadline
    )
    make_task(
        cast.drafter, "按期办完的函", status=STATUS.DONE, days_ago=9, done_after_days=1, deadline=deadline
    )

    response = sign_in(cast.drafter).get(URL, {"tab": "done", "overdue": "on"})

    assert titles(response) == ["拖期办完的函"]
    assert "已超期" in response.content.decode()


def test_date_range_keeps_tasks_received_on_those_days(cast: Any, sign_in: Any) -> None:
    make_task(cast.drafter, "十天前的函", days_ago=10)
    make_task(cast.drafter, "三天前的函", days_ago=3)
    make_task(cast.drafter, "今天的函")
    today = timezone.localdate()

    response = sign_in(cast.drafter).get(
        URL,
        {
            "date_from": (today - timedelta(days=4)).isoformat(),
            "date_to": (today - timedelta(days=1)).isoformat(),
        },
    )

    assert titles(response) == ["三天前的函"]


def test_sorts_by_oldest_and_by_deadline_with_no_deadline_last(cast: Any, sign_in: Any) -> None:
    make_task(cast.drafter, "无期限的函", days_ago=2)
    make_task(cast.drafter, "月底到期的函", days_ago=1, deadline="2099-12-31")
    make_task(cast.drafter, "明天到期的函", deadline=(timezone.localdate() + timedelta(days=1)).isoformat())
    client = sign_in(cast.drafter)

    assert titles(client.get(URL, {"sort": "oldest"})) == ["无期限的函", "月底到期的函", "明天到期的函"]
    assert titles(client.get(URL, {"sort": "deadline"})) == ["明天到期的函", "月底到期的函", "无期限的函"]


def test_list_is_paged_twenty_at_a_time_and_a_page_past_the_end_shows_the_last(
    cast: Any, sign_in: Any
) -> None:
    for i in range(25):
        make_task(cast.drafter, f"事项{i:02d}", days_ago=i / 100)
    client = sign_in(cast.drafter)

    first = client.get(URL)
    second = client.get(URL, {"page": "2"})
    beyond = client.get(URL, {"page": "99"})

    assert len(titles(first)) == 20 and titles(first)[0] == "事项00"
    assert titles(second) == [f"事项{i}" for i in range(20, 25)]
    assert titles(beyond) == titles(second)
    assert "下一页" in first.content.decode() and "上一页" in second.content.decode()


def test_a_reversed_date_range_is_refused_in_chinese_and_keeps_what_was_typed(
    cast: Any, sign_in: Any
) -> None:
    make_task(cast.drafter, "某函")

    response = sign_in(cast.drafter).get(
        URL, {"q": "防汛", "date_from": "2026-05-01", "date_to": "2026-04-01"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in html
    assert 'value="防汛"' in html and 'value="2026-05-01"' in html


def test_an_unreadable_date_and_a_too_long_search_are_refused_in_chinese(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).get(URL, {"q": "长" * 101, "date_from": "明天"})
    html = response.content.decode()
    assert "搜索词最多 100 个字" in html and "请输入有效的日期" in html


@pytest.mark.parametrize("tab", ["todo", "done", "closed", "unread", "read"])
def test_a_date_at_the_calendars_edge_is_refused_in_chinese_not_a_server_error(
    cast: Any, sign_in: Any, tab: str
) -> None:
    make_task(cast.drafter, "某函")

    response = sign_in(cast.drafter).get(
        URL, {"tab": tab, "q": "防汛", "date_from": "0001-01-01", "date_to": "9999-12-31"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "请输入 1900 年至 2999 年之间的日期" in html
    assert 'value="防汛"' in html and 'value="9999-12-31"' in html


def test_search_looks_only_through_the_newest_window_and_a_date_range_reaches_older(
    cast: Any, sign_in: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("workflows.inbox.SCAN_CAP", 3)
    make_task(cast.drafter, "很早以前的请示", days_ago=30)
    for i in range(3):
        make_task(cast.drafter, f"最近的函{i}", days_ago=i)
    client = sign_in(cast.drafter)

    recent = client.get(URL, {"q": "请示"})
    older = client.get(URL, {"q": "请示", "date_to": (timezone.localdate() - timedelta(days=20)).isoformat()})

    assert titles(recent) == []
    assert "只列出最近的 3 条并在其中筛选；请用日期范围查找更早的事项" in recent.content.decode()
    assert titles(older) == ["很早以前的请示"]


def test_live_refresh_gets_the_list_alone_with_its_trigger(cast: Any, sign_in: Any) -> None:
    make_task(cast.drafter, "新来的函")
    response = sign_in(cast.drafter).get(URL, {"tab": "todo"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "新来的函" in html
    assert 'hx-trigger="inbox-changed"' in html and 'hx-get="/workflows/inbox/?tab=todo"' in html


def test_full_page_loads_the_live_refresh_script(cast: Any, sign_in: Any) -> None:
    html = sign_in(cast.drafter).get(URL).content.decode()
    assert "workflows/inbox.js" in html and "data-inbox-list" in html


class ExternalSource:
    key = "supervision_test"
    label = "督办事项"

    def to_do(self, user: Any) -> list[Any]:
        from officeapp.workbench.tiles import TileItem

        return [TileItem(title="督办：防汛物资落实情况", url="/supervision/1/", when=timezone.now())]

    def done(self, user: Any) -> list[Any]:
        return []


def test_other_sources_are_listed_in_their_own_section(cast: Any, sign_in: Any) -> None:
    inbox_sources.register(ExternalSource.key, ExternalSource())
    try:
        make_task(cast.drafter, "公文流转的函")
        html = sign_in(cast.drafter).get(URL).content.decode()
        done_html = sign_in(cast.drafter).get(URL, {"tab": "done"}).content.decode()
    finally:
        inbox_sources.unregister(ExternalSource.key)
    assert "督办事项" in html and "督办：防汛物资落实情况" in html and 'href="/supervision/1/"' in html
    assert "督办：防汛物资落实情况" not in done_html


def _queries(client: Any, params: dict[str, str]) -> tuple[int, int]:
    """(all queries of the request, those reading tasks)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    sqls = [q["sql"] for q in queries.captured_queries]
    return len(sqls), sum("viewflow_task" in sql for sql in sqls)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tab": "done"},
        {"tab": "closed"},
        {"q": "事项", "urgency": "urgent", "overdue": "on", "sort": "deadline", "page": "2"},
        {"tab": "done", "date_from": "2020-01-01", "step": "dept_review"},
        {"tab": "unread"},
        {"tab": "read", "q": "事项", "sort": "oldest"},
        {"tab": "unread", "urgency": "urgent", "date_from": "2020-01-01", "page": "2"},
    ],
)
def test_page_costs_the_same_number_of_queries_at_ten_and_at_a_hundred_tasks(
    cast: Any, sign_in: Any, params: dict[str, str]
) -> None:
    client = sign_in(cast.drafter)
    deadline = (timezone.localdate() - timedelta(days=1)).isoformat()

    def add(n: int) -> None:
        for i in range(n):
            status = STATUS.DONE if i % 2 else STATUS.ASSIGNED
            make_task(
                cast.drafter,
                f"事项{i}",
                status=status,
                days_ago=i / 50,
                urgency="urgent",
                deadline=deadline,
                process_done=bool(i % 4 == 1),
            )
            group = make_task(None, f"抢办事项{i}", status=STATUS.NEW, days_ago=i / 50)
            TaskCandidate.objects.create(task=group, user=cast.drafter)
        make_readings(cast, cast.drafter, n // 2, read=False)
        make_readings(cast, cast.drafter, n - n // 2, read=True)

    add(10)
    small = _queries(client, params)
    add(90)
    large = _queries(client, params)

    assert small == large
    # The tab counts, the window's size (待办/已办/待阅/已阅) and the rows: no query per row, tab or
    # filter. The 传阅 tabs read tasks only in the tab counts (one query for all five tabs).
    tab = params.get("tab")
    assert large[1] == (2 if tab == "closed" else 1 if tab in ("unread", "read") else 3)


def test_closed_tab_pages_by_whether_there_is_more(cast: Any, sign_in: Any) -> None:
    for i in range(21):
        make_task(cast.drafter, f"办结{i:02d}", status=STATUS.DONE, days_ago=i / 100, process_done=True)
    client = sign_in(cast.drafter)

    first = client.get(URL, {"tab": "closed"})
    second = client.get(URL, {"tab": "closed", "page": "2"})

    assert len(titles(first)) == 20 and "下一页" in first.content.decode()
    assert titles(second) == ["办结20"] and "下一页" not in second.content.decode()


def test_closed_tab_looks_only_through_the_newest_done_tasks(
    cast: Any, sign_in: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("workflows.inbox.SCAN_CAP", 2)
    make_task(cast.drafter, "很早办结的通知", status=STATUS.DONE, days_ago=30, process_done=True)
    make_task(cast.drafter, "最近办的函一", status=STATUS.DONE, days_ago=2)
    make_task(cast.drafter, "最近办结的函二", status=STATUS.DONE, days_ago=1, process_done=True)
    client = sign_in(cast.drafter)

    assert titles(client.get(URL, {"tab": "closed"})) == ["最近办结的函二"]
    older = client.get(
        URL, {"tab": "closed", "date_to": (timezone.localdate() - timedelta(days=20)).isoformat()}
    )
    assert titles(older) == ["很早办结的通知"]


def test_the_real_flow_moves_a_document_from_the_drafters_to_do_to_the_heads(
    cast: Any, sign_in: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.documents.factories import make_document
    from workflows import services
    from workflows.services import StepInput

    document = make_document(cast, title="关于开展安全生产大检查的通知")
    with django_capture_on_commit_callbacks(execute=True):
        services.start_outgoing(document, actor=cast.drafter)
    drafter = sign_in(cast.drafter).get(URL)
    [row] = drafter.context["result"].rows
    assert (row.title, row.step_label, row.url) == (
        "关于开展安全生产大检查的通知",
        "拟稿",
        f"/workflows/tasks/{row.task_id}/",
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.complete_step(
            Task.objects.get(pk=row.task_id), actor=cast.drafter, step_input=StepInput(opinion="请审核。")
        )

    assert titles(sign_in(cast.drafter).get(URL)) == []
    assert titles(sign_in(cast.drafter).get(URL, {"tab": "done"})) == ["关于开展安全生产大检查的通知"]
    head = sign_in(cast.dept_head).get(URL)
    assert [(r.title, r.step_label) for r in head.context["result"].rows] == [
        ("关于开展安全生产大检查的通知", "处室审核")
    ]


# --- 待阅 / 已阅 (传阅) ------------------------------------------------------------------------------


def make_readings(
    cast: Any, reader: Any, n: int, *, read: bool, title: str = "传阅事项", **doc: Any
) -> list[Any]:
    """`n` 传阅 items of `reader`, each of its own document, arriving a minute apart (newest last)."""
    from documents.models import OfficialDocument
    from workflows.models import Circulation, CirculationReader, ReadingState

    readings = []
    base = timezone.now() - timedelta(hours=1)
    start = Circulation.objects.count()
    for i in range(n):
        document = OfficialDocument.objects.create(
            agency=cast.gov_office,
            department=cast.general_dept,
            drafter=cast.drafter,
            title=f"{title}{start + i}",
            **doc,
        )
        arrived = base + timedelta(minutes=start + i)
        circulation = Circulation.objects.create(document=document, started_by=cast.clerk, created_at=arrived)
        readings.append(
            CirculationReader.objects.create(
                circulation=circulation,
                reader=reader,
                state=ReadingState.READ if read else ReadingState.UNREAD,
                arrived_at=arrived,
                read_at=arrived + timedelta(minutes=30) if read else None,
                comment="已阅，同意" if read else "",
            )
        )
    return readings


def test_to_read_and_read_tabs_list_the_persons_circulation_items_with_counts_on_the_tabs(
    cast: Any, sign_in: Any
) -> None:
    make_readings(cast, cast.leader, 2, read=False, title="待阅文")
    make_readings(cast, cast.leader, 1, read=True, title="已阅文")
    make_readings(cast, cast.dept_head, 1, read=False, title="别人的待阅")
    client = sign_in(cast.leader)

    unread = client.get(URL, {"tab": "unread"})
    read = client.get(URL, {"tab": "read"})

    assert titles(unread) == ["待阅文1", "待阅文0"]
    assert titles(read) == ["已阅文2"]
    html = unread.content.decode()
    assert (
        '待阅 <span class="inbox-count">2</span>' in html
        and '已阅 <span class="inbox-count">1</span>' in html
    )
    assert "别人的待阅" not in html and "送达" in html and "吴晓燕发起" in html
    assert "阅读意见：已阅，同意" in read.content.decode()
    assert unread.context["result"].rows[0].url.startswith("/workflows/readings/")


def test_to_read_tab_searches_by_title_and_filters_by_urgency(cast: Any, sign_in: Any) -> None:
    make_readings(cast, cast.leader, 1, read=False, title="防汛通知", urgency="extra_urgent")
    make_readings(cast, cast.leader, 1, read=False, title="教育经费函")
    client = sign_in(cast.leader)

    assert titles(client.get(URL, {"tab": "unread", "q": "防汛"})) == ["防汛通知0"]
    response = client.get(URL, {"tab": "unread", "urgency": "extra_urgent"})
    assert titles(response) == ["防汛通知0"] and "特急" in response.content.decode()
    assert titles(client.get(URL, {"tab": "unread", "sort": "oldest"})) == ["防汛通知0", "教育经费函1"]


def test_empty_to_read_tab_says_so(cast: Any, sign_in: Any) -> None:
    assert "暂无待阅文件。" in sign_in(cast.leader).get(URL, {"tab": "unread"}).content.decode()


def test_a_reading_marked_read_moves_from_to_read_to_read(cast: Any, sign_in: Any) -> None:
    from tests.workflows.test_circulation import make_document
    from workflows.circulation import circulate, mark_read

    document = make_document(cast, "关于报送年度预算的通知")
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    client = sign_in(cast.leader)
    assert titles(client.get(URL, {"tab": "unread"})) == ["关于报送年度预算的通知"]

    mark_read(circulation.readers.get(), actor=cast.leader, comment="请预算处阅")

    assert titles(client.get(URL, {"tab": "unread"})) == []
    assert titles(client.get(URL, {"tab": "read"})) == ["关于报送年度预算的通知"]


def test_a_delegates_item_says_for_whom_they_read(cast: Any, sign_in: Any) -> None:
    (reading,) = make_readings(cast, cast.dept_head, 1, read=False)
    reading.on_behalf_of = cast.leader
    reading.save()
    assert "代王德明阅" in sign_in(cast.dept_head).get(URL, {"tab": "unread"}).content.decode()


# --- 超期 / 今日到期 -----------------------------------------------------------------------------


def test_open_task_past_its_deadline_is_marked_overdue_and_one_due_today_is_marked_so(
    cast: Any, sign_in: Any
) -> None:
    import time_machine

    from workflows.models import TaskDue

    make_task(cast.drafter, "期限已过的函", deadline="2026-03-10")
    due_task = make_task(cast.drafter, "今天到期的请示")
    TaskDue.objects.create(task=due_task, due_on=date(2026, 3, 12))  # the deadline from TaskDue
    make_task(cast.drafter, "下周到期的报告", deadline="2026-03-19")

    with time_machine.travel(datetime(2026, 3, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        response = sign_in(cast.drafter).get(URL)
        overdue_only = sign_in(cast.drafter).get(URL, {"overdue": "on"})

    rows = {row.title: row for row in response.context["result"].rows}
    assert rows["期限已过的函"].overdue and not rows["期限已过的函"].due_today
    assert rows["今天到期的请示"].due_today and not rows["今天到期的请示"].overdue
    assert rows["今天到期的请示"].deadline == date(2026, 3, 12)
    assert not rows["下周到期的报告"].overdue and not rows["下周到期的报告"].due_today
    html = response.content.decode()
    assert html.count("已超期") == 1 and html.count("今日到期") == 1
    assert titles(overdue_only) == ["期限已过的函"]


def test_the_next_day_the_task_due_yesterday_is_overdue(cast: Any, sign_in: Any) -> None:
    import time_machine

    from workflows.models import TaskDue

    task = make_task(cast.drafter, "昨天到期的请示")
    TaskDue.objects.create(task=task, due_on=date(2026, 3, 12))

    with time_machine.travel(datetime(2026, 3, 13, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        response = sign_in(cast.drafter).get(URL, {"overdue": "on"})

    assert titles(response) == ["昨天到期的请示"]
    assert "已超期" in response.content.decode()
