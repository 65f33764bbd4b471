"""The office's 催办 page (/workflows/urging/): what the office sees, the 催办 button, refusals that
keep what was typed, who may open it, and a query count that does not grow with the rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.notify import services as notify_services
from officeapp.notify.models import Notification
from tests.documents.factories import make_document
from workflows import services
from workflows.models import Reminder, ReminderKind

pytestmark = [pytest.mark.django_db]

PAGE = "/workflows/urging/"


@pytest.fixture(autouse=True)
def quiet_pushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_services, "send_to_groups", lambda frames: None)
    monkeypatch.setattr(notify_services, "async_task", lambda *args, **kwargs: None)


def urge_url(task: Task) -> str:
    return f"/workflows/urging/{task.pk}/urge/"


def open_draft(cast: Any, deadline: date, title: str = "关于做好2026年防汛防台风工作的通知") -> Task:
    document = make_document(cast, title=title, deadline=deadline)
    services.start_outgoing(document, actor=cast.drafter)
    return Task.objects.get(process__outgoingprocess__document=document, flow_task__endswith=".draft")


def test_the_office_sees_open_tasks_with_deadlines_most_overdue_first(cast: Any, sign_in: Any) -> None:
    today = timezone.localdate()
    later = open_draft(cast, today + timedelta(days=30), title="关于秋季森林防火的通知")
    late = open_draft(cast, today - timedelta(days=20), title="关于汛期值班安排的通知")
    Reminder.objects.create(
        task=late, kind=ReminderKind.OVERDUE, for_date=today, recipients=[cast.drafter.pk]
    )

    page = sign_in(cast.office_secretary).get(PAGE).content.decode()

    assert page.index("关于汛期值班安排的通知") < page.index("关于秋季森林防火的通知")
    assert "超期" in page and "个工作日" in page
    assert "剩" in page
    assert cast.drafter.real_name in page
    assert "已催办</dt><dd>1 次" in page
    assert "超期催办" in page  # the 催办记录 of the late task
    assert f'id="task-{later.pk}"' in page


def test_a_finished_task_or_one_without_a_deadline_is_not_listed(cast: Any, sign_in: Any) -> None:
    today = timezone.localdate()
    done = open_draft(cast, today - timedelta(days=2), title="关于已办结事项的通知")
    Task.objects.filter(pk=done.pk).update(status=STATUS.DONE)
    document = make_document(cast, title="关于无时限事项的通知")
    services.start_outgoing(document, actor=cast.drafter)

    page = sign_in(cast.office_secretary).get(PAGE).content.decode()

    assert "关于已办结事项的通知" not in page
    assert "关于无时限事项的通知" not in page
    assert "本机关没有带办理时限的在办事项。" in page


def test_the_urge_button_reminds_the_holder_and_the_page_counts_it(cast: Any, sign_in: Any) -> None:
    task = open_draft(cast, timezone.localdate() - timedelta(days=5))
    client = sign_in(cast.office_director)

    response = client.post(urge_url(task), {"note": "请今天办结", "page": "1"})

    assert response.status_code == 302
    assert response["Location"].endswith(f"#task-{task.pk}")
    reminder = Reminder.objects.get(task=task, kind=ReminderKind.MANUAL)
    assert reminder.note == "请今天办结"
    assert Notification.objects.filter(recipient=cast.drafter, kind="workflows.urge").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "已催办，1人收到提醒。" in page
    assert "已催办</dt><dd>1 次" in page
    assert "人工催办（" + cast.office_director.real_name + "）：请今天办结" in page


def test_an_over_long_note_is_refused_beside_its_task_and_kept(cast: Any, sign_in: Any) -> None:
    task = open_draft(cast, timezone.localdate() - timedelta(days=5))
    note = "请" * 201

    response = sign_in(cast.office_secretary).post(urge_url(task), {"note": note})

    assert response.status_code == 200
    page = response.content.decode()
    assert "催办说明不能超过200字。" in page
    assert note in page  # what was typed is still there
    assert not Reminder.objects.exists()


def test_the_pager_on_a_refused_urge_leads_to_the_list_not_to_an_error_page(
    cast: Any, sign_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.views import urging as urging_views

    monkeypatch.setattr(urging_views, "PAGE_SIZE", 1)
    first = open_draft(cast, timezone.localdate() - timedelta(days=5))
    open_draft(cast, timezone.localdate() + timedelta(days=5), title="关于报送2026年预算执行情况的通知")
    client = sign_in(cast.office_secretary)

    refused = client.post(urge_url(first), {"note": "请" * 201})

    page = refused.content.decode()
    assert 'href="/workflows/urging/?page=2"' in page
    assert client.get("/workflows/urging/?page=2").status_code == 200


def test_urging_a_task_finished_meanwhile_says_so_and_writes_nothing(cast: Any, sign_in: Any) -> None:
    task = open_draft(cast, timezone.localdate() - timedelta(days=5))
    client = sign_in(cast.office_secretary)
    Task.objects.filter(pk=task.pk).update(status=STATUS.DONE)

    response = client.post(urge_url(task), {"note": "快"})

    assert response.status_code == 200
    assert "该任务已办结，无需催办。" in response.content.decode()
    assert not Reminder.objects.exists()


def test_who_may_open_the_page(cast: Any, sign_in: Any, client: Any) -> None:
    assert client.get(PAGE).status_code == 302  # anonymous → sign-in
    for who in ("office_secretary", "office_director", "clerk", "supervisor", "other_clerk"):
        assert sign_in(getattr(cast, who)).get(PAGE).status_code == 200, who
    for who in ("drafter", "dept_head", "leader", "outsider"):
        response = sign_in(getattr(cast, who)).get(PAGE)
        assert response.status_code == 403, who
        assert "只有本机关办公室" in response.content.decode()


def test_who_may_press_the_button(cast: Any, sign_in: Any) -> None:
    task = open_draft(cast, timezone.localdate() - timedelta(days=1))

    # The drafter sees the document but may not urge (403); another agency's clerk and an outsider
    # do not see it: the same 404 as for a task that does not exist.
    assert sign_in(cast.drafter).post(urge_url(task)).status_code == 403
    assert sign_in(cast.other_clerk).post(urge_url(task)).status_code == 404
    assert sign_in(cast.outsider).post(urge_url(task)).status_code == 404
    assert sign_in(cast.office_secretary).post("/workflows/urging/999999/urge/").status_code == 404
    assert not Reminder.objects.exists()
    # Only POST changes anything.
    assert sign_in(cast.office_secretary).get(urge_url(task)).status_code == 405


def test_another_agencys_office_sees_none_of_our_tasks(cast: Any, sign_in: Any) -> None:
    open_draft(cast, timezone.localdate() - timedelta(days=3), title="关于省府办公厅内部事项的通知")

    page = sign_in(cast.other_clerk).get(PAGE).content.decode()

    assert "关于省府办公厅内部事项的通知" not in page


def test_the_page_makes_the_same_number_of_queries_for_two_rows_or_eight(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.office_secretary)
    today = timezone.localdate()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(PAGE).status_code == 200
        return len(ctx.captured_queries)

    for n in range(2):
        task = open_draft(cast, today - timedelta(days=n + 1), title=f"关于第{n}项工作的通知")
        Reminder.objects.create(task=task, kind=ReminderKind.DUE, for_date=today, recipients=[])
    few = queries()
    for n in range(2, 8):
        open_draft(cast, today - timedelta(days=n + 1), title=f"关于第{n}项工作的通知")
    many = queries()

    assert many == few


def test_a_received_documents_task_is_listed_for_the_receiving_office_and_can_be_urged(
    receiving: Any, sign_in: Any
) -> None:
    from documents.exchange import receive
    from documents.models import IncomingRecord
    from workflows.incoming import IncomingStepInput, complete_incoming_step
    from workflows.models import TaskDue

    # given: 省财政厅 signs for a document and registers it; its 初审 task has the 办理时限
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)
    document = IncomingRecord.objects.get(exchange=record).document
    register = Task.objects.get(process__incomingprocess__document=document, flow_task__endswith=".register")
    complete_incoming_step(register, actor=receiving.clerk, step_input=IncomingStepInput())
    due = TaskDue.objects.select_related("task").get(
        task__process__incomingprocess__document=document, task__status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )
    client = sign_in(receiving.director)

    # when
    page = client.get(PAGE).content.decode()
    response = client.post(urge_url(due.task), {"note": "请尽快初审"})

    # then
    assert f'id="task-{due.task.pk}"' in page
    assert document.title in page
    assert response.status_code == 302
    reminder = Reminder.objects.get(task=due.task, kind=ReminderKind.MANUAL)
    assert reminder.recipients  # whoever holds 初审 was told
    assert Notification.objects.filter(kind="workflows.urge", recipient_id__in=reminder.recipients).exists()
