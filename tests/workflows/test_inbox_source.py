"""The unified inbox's viewflow source: a user's own open tasks (待办) and done tasks (已办)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from officeapp.registries import inbox_sources
from workflows.inbox import COUNT_CAP, InboxItem, source

FLOW = "workflows/flows.OutgoingFlow"


def make_task(
    owner: Any, title: str, *, status: str = STATUS.ASSIGNED, minutes_ago: int = 0, **data: Any
) -> Task:
    created = timezone.now() - timedelta(minutes=minutes_ago)
    process = Process.objects.create(flow_class=FLOW, created=created)
    return Task.objects.create(
        process=process,
        flow_task=f"{FLOW}.dept_review",
        flow_task_type="HUMAN",
        owner=owner,
        status=status,
        created=created,
        finished=created + timedelta(minutes=1) if status == STATUS.DONE else None,
        data={"title": title, **data},
    )


def test_source_is_registered_for_the_workbench() -> None:
    assert inbox_sources["workflows"] is source
    assert source.label == "公文流转"


def test_user_sees_own_open_task_and_not_anothers(cast: Any) -> None:
    make_task(cast.drafter, "关于做好防汛工作的通知")
    make_task(cast.outsider, "关于教育经费的请示")
    titles = [item.title for item in source.to_do(cast.drafter)]
    assert titles == ["关于做好防汛工作的通知"]
    assert [item.title for item in source.to_do(cast.outsider)] == ["关于教育经费的请示"]
    assert source.to_do_count(cast.drafter) == 1


def test_done_and_canceled_tasks_leave_the_to_do_list(cast: Any) -> None:
    make_task(cast.drafter, "已办完的函", status=STATUS.DONE)
    make_task(cast.drafter, "已取消的通知", status=STATUS.CANCELED)
    make_task(cast.drafter, "仍待办的报告", status=STATUS.STARTED)
    assert [i.title for i in source.to_do(cast.drafter)] == ["仍待办的报告"]
    assert [i.title for i in source.done(cast.drafter)] == ["已办完的函"]
    assert (source.to_do_count(cast.drafter), source.done_count(cast.drafter)) == (1, 1)


def test_items_carry_title_url_time_and_urgency_newest_first(cast: Any) -> None:
    earlier = make_task(cast.drafter, "较早的事项", minutes_ago=60)
    make_task(cast.drafter, "特急事项", minutes_ago=5, urgency="urgent", url="/documents/7/")
    first, second = source.to_do(cast.drafter)
    assert isinstance(first, InboxItem)
    assert (first.title, first.url, first.urgency) == ("特急事项", "/documents/7/", "urgent")
    # A 发文 task stores no URL (it is inserted before its id is known): its page, by id.
    assert (second.title, second.url, second.urgency) == (
        "较早的事项",
        f"/workflows/tasks/{earlier.pk}/",
        "normal",
    )
    assert first.created > second.created and first.when == first.created


def test_task_without_title_is_named_by_its_flow_and_step(cast: Any) -> None:
    process = Process.objects.create(flow_class=FLOW)
    Task.objects.create(
        process=process,
        flow_task=f"{FLOW}.dept_review",
        flow_task_type="HUMAN",
        owner=cast.drafter,
        status=STATUS.NEW,
    )
    assert [i.title for i in source.to_do(cast.drafter)] == ["发文·处室审核"]


def test_anonymous_user_has_an_empty_inbox(cast: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    make_task(cast.drafter, "某事项")
    assert list(source.to_do(AnonymousUser())) == []
    assert source.to_do_count(AnonymousUser()) == 0 and source.done_count(AnonymousUser()) == 0


def test_a_page_of_items_costs_one_query_however_many_tasks(cast: Any) -> None:
    for i in range(30):
        make_task(cast.drafter, f"事项{i}", minutes_ago=i)
    with CaptureQueriesContext(connection) as queries:
        items = list(source.to_do(cast.drafter)[:20])
    assert len(items) == 20 and items[0].title == "事项0"
    assert len(queries.captured_queries) == 1


def test_workbench_loader_gets_count_and_items_in_one_query(cast: Any) -> None:
    from officeapp.workbench.tiles import inbox_loader

    for i in range(7):
        make_task(cast.drafter, f"事项{i}", minutes_ago=i)
    with CaptureQueriesContext(connection) as queries:
        count, items = inbox_loader("to_do")(cast.drafter, 5)
    assert count == 7 and [i.title for i in items] == [f"事项{i}" for i in range(5)]
    # One query for viewflow's tasks; every other inbox source (agency systems' to-dos) adds one of its own.
    assert sum("viewflow_task" in q["sql"] for q in queries.captured_queries) == 1
    assert len(queries.captured_queries) == len(inbox_sources.keys())


def test_counts_stop_at_the_cap(cast: Any) -> None:
    process = Process.objects.create(flow_class=FLOW)
    Task.objects.bulk_create(
        [
            Task(
                process=process,
                flow_task=f"{FLOW}.dept_review",
                flow_task_type="HUMAN",
                owner=cast.drafter,
                status=STATUS.ASSIGNED,
                data={"title": f"事项{i}"},
            )
            for i in range(COUNT_CAP + 5)
        ]
    )
    assert source.to_do_count(cast.drafter) == COUNT_CAP
    assert source.to_do_count(cast.outsider) == 0


def test_lists_hold_at_most_the_newest_cap_items_and_window_counts_stop_there(cast: Any) -> None:
    from django.db.models import Count, Window

    process = Process.objects.create(flow_class=FLOW)
    now = timezone.now()
    Task.objects.bulk_create(
        [
            Task(
                process=process,
                flow_task=f"{FLOW}.dept_review",
                flow_task_type="HUMAN",
                owner=cast.drafter,
                status=STATUS.ASSIGNED,
                created=now - timedelta(minutes=i),
                data={"title": f"事项{i}"},
            )
            for i in range(COUNT_CAP + 5)
        ]
    )
    head = list(source.to_do(cast.drafter).annotate(total=Window(Count("pk")))[:3])
    assert [i.title for i in head] == ["事项0", "事项1", "事项2"]
    assert head[0].total == COUNT_CAP


def test_group_task_is_in_each_candidates_to_do_until_claimed(cast: Any) -> None:
    from workflows.models import TaskCandidate

    task = make_task(None, "请处长阅处的函", status=STATUS.NEW)
    for person in (cast.dept_head, cast.drafter):
        TaskCandidate.objects.create(task=task, user=person)

    assert [i.title for i in source.to_do(cast.dept_head)] == ["请处长阅处的函"]
    assert source.to_do_count(cast.drafter) == 1 and source.to_do_count(cast.outsider) == 0

    Task.objects.filter(pk=task.pk).update(owner=cast.dept_head, status=STATUS.ASSIGNED)
    assert source.to_do_count(cast.drafter) == 0
    assert [i.title for i in source.to_do(cast.dept_head)] == ["请处长阅处的函"]


def test_workbench_counts_own_and_claimable_tasks_in_one_query(cast: Any) -> None:
    from officeapp.workbench.tiles import inbox_loader
    from workflows.models import TaskCandidate

    make_task(cast.drafter, "自己的函", minutes_ago=10)
    group = make_task(None, "可抢办的通知", status=STATUS.NEW, minutes_ago=1)
    TaskCandidate.objects.create(task=group, user=cast.drafter)
    with CaptureQueriesContext(connection) as queries:
        count, items = inbox_loader("to_do")(cast.drafter, 5)
    assert count == 2 and [i.title for i in items] == ["可抢办的通知", "自己的函"]
    assert len(queries.captured_queries) == len(inbox_sources.keys())


def test_inbox_change_is_pushed_to_each_person_once_and_only_after_commit(
    cast: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from workflows.inbox import push_inbox_changed

    sent: list[Any] = []
    monkeypatch.setattr("workflows.live.send_to_groups", sent.extend)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        push_inbox_changed(
            [cast.drafter.pk, cast.drafter.pk, cast.dept_head.pk], task_id=7, action="created", title="某通知"
        )
        assert sent == []
    for callback in callbacks:
        callback()

    frame = {"type": "inbox.changed", "task_id": 7, "action": "created", "title": "某通知"}
    assert sent == [
        (f"user.{pk}", {"type": "push", "frame": frame})
        for pk in sorted([cast.drafter.pk, cast.dept_head.pk])
    ]


# --- 待阅 for the workbench, and 超期 / 今日到期 on 待办 items ----------------------------------------


def test_to_read_lists_the_persons_unread_circulation_items_newest_first(cast: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    from tests.workflows.test_inbox_page import make_readings

    make_readings(cast, cast.leader, 3, read=False, title="待阅文")
    make_readings(cast, cast.leader, 1, read=True, title="已阅文")
    make_readings(cast, cast.dept_head, 1, read=False, title="别人的")

    items = list(source.to_read(cast.leader))

    assert [i.title for i in items] == ["待阅文2", "待阅文1", "待阅文0"]
    assert items[0].meta == "吴晓燕传阅" and items[0].when is not None
    assert source.to_read_count(cast.leader) == 3 and source.to_read_count(cast.outsider) == 0
    assert list(source.to_read(AnonymousUser())) == [] and source.to_read_count(AnonymousUser()) == 0


def test_workbench_to_read_tile_gets_count_and_items_in_one_query(cast: Any) -> None:
    from officeapp.workbench.tiles import inbox_loader
    from tests.workflows.test_inbox_page import make_readings

    make_readings(cast, cast.leader, 7, read=False, title="待阅文")
    with CaptureQueriesContext(connection) as queries:
        count, items = inbox_loader("to_read")(cast.leader, 5)
    assert count == 7 and [i.title for i in items] == [f"待阅文{i}" for i in range(6, 1, -1)]
    assert len(queries.captured_queries) == 1


def test_workbench_to_do_item_says_overdue_or_due_today_in_its_meta(cast: Any) -> None:
    import time_machine

    from workflows.models import TaskDue

    make_task(cast.drafter, "期限已过的函", deadline="2026-03-10", minutes_ago=3)
    today = make_task(cast.drafter, "今天到期的请示", minutes_ago=2)
    TaskDue.objects.create(task=today, due_on=date(2026, 3, 12))
    make_task(cast.drafter, "不急的报告", minutes_ago=1)

    now = datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as queries:
        metas = {i.title: i.meta for i in source.to_do(cast.drafter)}
    assert metas == {
        "期限已过的函": "发文 · 超期",
        "今天到期的请示": "发文 · 今日到期",
        "不急的报告": "发文",
    }
    assert len(queries.captured_queries) == 1


def test_the_workbench_shows_the_leaders_to_read_items_in_its_to_read_tile(cast: Any, sign_in: Any) -> None:
    from tests.workflows.test_inbox_page import make_readings

    make_readings(cast, cast.leader, 2, read=False, title="请阅文")
    make_readings(cast, cast.leader, 1, read=True, title="读过的")

    html = sign_in(cast.leader).get("/").content.decode()

    assert "待阅" in html and "请阅文0" in html and "请阅文1" in html and "读过的" not in html
