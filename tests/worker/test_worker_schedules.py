"""Schedules from the registry into django-q2, the ticker, idempotent tasks, retries and heartbeats."""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule as QSchedule

from officeapp.outbox.models import OutboxEvent
from officeapp.outbox.services import emit
from officeapp.registries import health_checks, worker_schedules
from officeapp.worker import tasks
from officeapp.worker.models import TaskRun, WorkerHeartbeat
from officeapp.worker.schedules import NAME_PREFIX, Schedule, sync_schedules
from officeapp.worker.ticker import Ticker

pytestmark = pytest.mark.django_db


@pytest.fixture
def temporary_schedules() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        worker_schedules.unregister(name)


def _register(names: list[str], schedule: Schedule) -> None:
    worker_schedules.unregister(schedule.name)
    worker_schedules.register(schedule.name, schedule)
    if schedule.name not in names:
        names.append(schedule.name)


def test_registered_schedules_become_django_q_rows(temporary_schedules: list[str]) -> None:
    _register(temporary_schedules, Schedule("test.reminders", "tests.worker.jobs.remind", seconds=300))

    report = sync_schedules()

    row = QSchedule.objects.get(name=NAME_PREFIX + "test.reminders")
    assert (row.func, row.schedule_type, row.minutes, row.repeats) == (
        "tests.worker.jobs.remind",
        QSchedule.MINUTES,
        5,
        -1,
    )
    assert "test.reminders" in report.created
    assert QSchedule.objects.filter(name=NAME_PREFIX + "workflow.timers", minutes=1).exists()


def test_syncing_twice_changes_nothing(temporary_schedules: list[str]) -> None:
    sync_schedules()
    count = QSchedule.objects.count()

    report = sync_schedules()

    assert QSchedule.objects.count() == count
    assert report.created == report.updated == report.removed == []


def test_a_changed_schedule_is_updated_and_a_removed_one_deleted(temporary_schedules: list[str]) -> None:
    _register(temporary_schedules, Schedule("test.reminders", "tests.worker.jobs.remind", seconds=300))
    sync_schedules()
    _register(temporary_schedules, Schedule("test.reminders", "tests.worker.jobs.remind", seconds=600))
    assert sync_schedules().updated == ["test.reminders"]
    assert QSchedule.objects.get(name=NAME_PREFIX + "test.reminders").minutes == 10

    worker_schedules.unregister("test.reminders")
    report = sync_schedules()

    assert report.removed == ["test.reminders"]
    assert not QSchedule.objects.filter(name=NAME_PREFIX + "test.reminders").exists()


def test_schedules_made_by_hand_in_the_admin_are_left_alone() -> None:
    QSchedule.objects.create(name="nightly report", func="math.floor", schedule_type=QSchedule.DAILY)
    sync_schedules()
    assert QSchedule.objects.filter(name="nightly report").exists()


def test_sub_minute_schedules_run_on_the_ticker_not_in_django_q() -> None:
    report = sync_schedules()
    assert {"outbox.drain", "worker.heartbeat"} <= set(report.ticker)
    assert not QSchedule.objects.filter(name=NAME_PREFIX + "outbox.drain").exists()


def test_sync_schedules_command_reports_what_it_did(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("sync_schedules")
    out = capsys.readouterr().out
    assert "created: " in out and "workflow.timers" in out and "on ticker: " in out


def test_a_schedule_needs_a_positive_interval_and_a_dotted_path() -> None:
    with pytest.raises(ValueError, match="seconds"):
        Schedule("bad", "x.y", seconds=0)
    with pytest.raises(ValueError, match="dotted"):
        Schedule("bad", "nodots", seconds=5)


# --- ticker -----------------------------------------------------------------------------------
CALLS: list[str] = []


def tick_job() -> None:
    CALLS.append("tick")


def broken_job() -> None:
    raise RuntimeError("boom")


def test_ticker_runs_each_job_at_its_interval() -> None:
    CALLS.clear()
    now = [100.0]
    ticker = Ticker([Schedule("t", f"{__name__}.tick_job", seconds=2)], clock=lambda: now[0])

    ran = [ticker.tick()]
    now[0] += 1
    ran.append(ticker.tick())
    now[0] += 1.5
    ran.append(ticker.tick())

    assert ran == [["t"], [], ["t"]]
    assert CALLS == ["tick", "tick"]


def test_a_failing_ticker_job_is_logged_and_does_not_stop_the_others(caplog: Any) -> None:
    CALLS.clear()
    ticker = Ticker(
        [
            Schedule("broken", f"{__name__}.broken_job", seconds=1),
            Schedule("fine", f"{__name__}.tick_job", seconds=1),
        ]
    )
    with caplog.at_level(logging.ERROR, logger="officeapp.worker.ticker"):
        ran = ticker.tick()
    assert ran == ["broken", "fine"] and CALLS == ["tick"]
    assert "ticker job broken failed" in caplog.text


def test_ticker_once_drains_the_outbox(capsys: pytest.CaptureFixture[str]) -> None:
    from officeapp.registries import outbox_consumers

    seen: list[int] = []
    outbox_consumers.register("test.ticker", lambda events: seen.extend(e.id for e in events))
    try:
        event = emit("test.changed", object_type="test.thing", object_id="1")
        call_command("ticker", "--once")
    finally:
        outbox_consumers.unregister("test.ticker")
    assert event.id in seen
    assert WorkerHeartbeat.objects.filter(name="ticker").exists()


# --- idempotency ------------------------------------------------------------------------------
@tasks.idempotent_task(key=lambda doc_id: f"test.notify:{doc_id}")
def notify_once(doc_id: int) -> OutboxEvent:
    return emit("test.notified", object_type="test.doc", object_id=doc_id)


FAIL_FIRST: list[bool] = []


@tasks.idempotent_task(key=lambda doc_id: f"test.flaky:{doc_id}")
def flaky_effect(doc_id: int) -> None:
    emit("test.flaky", object_type="test.doc", object_id=doc_id)
    if FAIL_FIRST:
        FAIL_FIRST.pop()
        raise RuntimeError("mail server down")


def test_an_idempotent_task_run_twice_has_one_effect() -> None:
    first = notify_once(7)
    second = notify_once(7)

    assert first is not None and second is None
    assert OutboxEvent.objects.filter(topic="test.notified", object_id="7").count() == 1
    assert TaskRun.objects.filter(key="test.notify:7").count() == 1


def test_another_key_is_another_effect() -> None:
    notify_once(7)
    notify_once(8)
    assert OutboxEvent.objects.filter(topic="test.notified").count() == 2


def test_a_failed_idempotent_task_leaves_no_key_so_its_retry_does_the_work() -> None:
    FAIL_FIRST[:] = [True]
    with pytest.raises(RuntimeError):
        flaky_effect(3)
    assert not TaskRun.objects.filter(key="test.flaky:3").exists()
    assert not OutboxEvent.objects.filter(topic="test.flaky").exists()  # rolled back with it

    flaky_effect(3)
    flaky_effect(3)

    assert OutboxEvent.objects.filter(topic="test.flaky").count() == 1


# --- retries with backoff ---------------------------------------------------------------------
def always_fails(x: int) -> None:
    raise RuntimeError(f"failed {x}")


def test_retry_delays_grow_and_are_capped() -> None:
    assert [tasks.retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert tasks.retry_delay(30) == tasks.RETRY_MAX_SECONDS


def test_a_failed_task_schedules_its_next_attempt_after_the_backoff() -> None:
    before = timezone.now()
    with pytest.raises(RuntimeError):
        tasks.run_with_retry(f"{__name__}.always_fails", [5], {}, 2, 5)

    retry = QSchedule.objects.get(func="officeapp.worker.tasks.run_with_retry")
    assert retry.schedule_type == QSchedule.ONCE
    assert before + timedelta(seconds=59) <= retry.next_run <= timezone.now() + timedelta(seconds=61)
    # django-q evaluates the stored arguments as literals: they must round-trip.
    assert ast.literal_eval(retry.args) == (f"{__name__}.always_fails", [5], {}, 3, 5)


def test_the_last_attempt_gives_up_without_another_retry(caplog: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="officeapp.worker.tasks"), pytest.raises(RuntimeError):
        tasks.run_with_retry(f"{__name__}.always_fails", [5], {}, 5, 5)
    assert not QSchedule.objects.filter(func="officeapp.worker.tasks.run_with_retry").exists()
    assert "given up" in caplog.text


def test_enqueue_puts_the_task_on_the_queue() -> None:
    from django_q.brokers import get_broker

    broker = get_broker()
    before = broker.queue_size()
    task_id = tasks.enqueue(f"{__name__}.tick_job")
    assert task_id
    assert broker.queue_size() == before + 1
    broker.purge_queue()


# --- heartbeats and viewflow ------------------------------------------------------------------
def test_worker_health_fails_without_heartbeats_and_passes_with_them() -> None:
    assert health_checks.get("worker") is tasks.worker_health
    with pytest.raises(RuntimeError, match="后台任务进程无心跳"):
        tasks.worker_health()

    tasks.beat("ticker")
    tasks.beat("queue")

    assert set(tasks.worker_health()["heartbeat_age_seconds"]) == {"ticker", "queue"}  # type: ignore[arg-type]


def test_a_stale_queue_heartbeat_is_reported() -> None:
    tasks.beat("ticker")
    WorkerHeartbeat.objects.create(name="queue", beat_at=timezone.now() - timedelta(minutes=10))
    with pytest.raises(RuntimeError, match="任务队列"):
        tasks.worker_health()


def test_send_heartbeat_beats_and_asks_the_queue_for_a_round_trip() -> None:
    from django_q.brokers import get_broker

    broker = get_broker()
    before = broker.queue_size()
    tasks._queue_requested_at = None

    tasks.send_heartbeat()
    tasks.send_heartbeat()  # the first request is still pending: not asked again

    assert WorkerHeartbeat.objects.filter(name="ticker").exists()
    assert broker.queue_size() == before + 1
    broker.purge_queue()


def test_viewflow_timers_run_through_the_workflow_timers_command() -> None:
    assert "timer(s) fired" in tasks.run_workflow_timers()
