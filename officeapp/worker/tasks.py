"""Task plumbing: idempotency, retries with backoff, heartbeats and viewflow's timers.

Idempotency. django-q2 delivers a task at least once: a worker killed mid-task gets it redelivered
after Q_CLUSTER["retry"] seconds, and our own retries repeat a failed one. A task that must have one
effect wraps its body in `idempotent_task(key=...)`: the TaskRun row with that key is inserted in the
same transaction as the effect, so a second run with the same key finds it and returns at once.
External effects (mail, SMS, webhooks) are queued with `transaction.on_commit` inside that body, so
they go out only when the key is committed.

Retries with backoff. django-q2 retries only at a fixed interval, and only tasks it lost (a failure
is acknowledged: `ack_failures`). `enqueue()` runs the task through `run_with_retry`, which on failure
schedules attempt n+1 as a one-off django-q Schedule after retry_delay(n) (30 s, 60 s, 120 s, ...),
up to `max_attempts`. Arguments must be literals (str, int, float, bool, None, lists, dicts), as
django-q stores a schedule's arguments as text.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from officeapp.worker.models import TaskRun, WorkerHeartbeat

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600
DEFAULT_MAX_ATTEMPTS = 5
# The ticker beats every few seconds; a queue round trip is requested every HEARTBEAT_SECONDS.
TICKER_STALE_SECONDS = 30
QUEUE_STALE_SECONDS = 90
TASK_RUN_RETENTION_DAYS = 30


# --- idempotency ------------------------------------------------------------------------------
def idempotent_task(key: Callable[..., str]) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the decorated function at most once per key: `key(*args, **kwargs)` names the effect."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        task_name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            run_key = key(*args, **kwargs)
            if TaskRun.objects.filter(key=run_key).exists():
                logger.info("task %s with key %s already done; skipped", task_name, run_key)
                return None
            try:
                with transaction.atomic():
                    # Inserted first: a concurrent run with the same key blocks here (or fails on
                    # the unique index) instead of doing the work twice.
                    TaskRun.objects.create(key=run_key, task=task_name)
                    return func(*args, **kwargs)
            except IntegrityError:
                if TaskRun.objects.filter(key=run_key).exists():
                    return None
                raise

        return wrapper

    return decorate


def prune_task_runs() -> int:
    cutoff = timezone.now() - timedelta(days=TASK_RUN_RETENTION_DAYS)
    return TaskRun.objects.filter(finished_at__lt=cutoff).delete()[0]


# --- retries with backoff ---------------------------------------------------------------------
def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    return min(RETRY_BASE_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS)


def enqueue(func_path: str, *args: Any, max_attempts: int = DEFAULT_MAX_ATTEMPTS, **kwargs: Any) -> str:
    """Queue `func_path(*args, **kwargs)` on the worker with retries and backoff; returns the task id."""
    from django_q.tasks import async_task

    return async_task("officeapp.worker.tasks.run_with_retry", func_path, list(args), kwargs, 1, max_attempts)


def run_with_retry(
    func_path: str, args: list[Any], kwargs: dict[str, Any], attempt: int, max_attempts: int
) -> Any:
    func = import_string(func_path)
    try:
        return func(*args, **kwargs)
    except Exception:
        if attempt < max_attempts:
            _schedule_retry(
                func_path,
                args,
                kwargs,
                attempt + 1,
                max_attempts,
                timezone.now() + timedelta(seconds=retry_delay(attempt)),
            )
            logger.warning(
                "task %s failed (attempt %d/%d); retried in %ds",
                func_path,
                attempt,
                max_attempts,
                retry_delay(attempt),
            )
        else:
            logger.error("task %s failed %d times; given up", func_path, attempt)
        raise


def _schedule_retry(
    func_path: str, args: list[Any], kwargs: dict[str, Any], attempt: int, max_attempts: int, at: datetime
) -> None:
    from django_q.models import Schedule as QSchedule

    QSchedule.objects.create(
        name=f"retry:{func_path}:{attempt}:{at.timestamp():.0f}"[:100],
        func="officeapp.worker.tasks.run_with_retry",
        args=repr((func_path, list(args), dict(kwargs), attempt, max_attempts)),
        schedule_type=QSchedule.ONCE,
        repeats=1,
        next_run=at,
    )


# --- heartbeats -------------------------------------------------------------------------------
def beat(name: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"beat_at": timezone.now(), "host": socket.gethostname()[:255], "pid": os.getpid()},
    )


_queue_requested_at: datetime | None = None


def send_heartbeat() -> None:
    """Ticker job: the ticker is alive; and ask the queue for a round trip unless one is pending."""
    global _queue_requested_at
    beat("ticker")
    now = timezone.now()
    last = WorkerHeartbeat.objects.filter(name="queue").values_list("beat_at", flat=True).first()
    pending = _queue_requested_at is not None and (last is None or last < _queue_requested_at)
    # While the cluster is down, ask again only now and then, so the queue does not pile up.
    if pending and _queue_requested_at and now - _queue_requested_at < timedelta(seconds=QUEUE_STALE_SECONDS):
        return
    from django_q.tasks import async_task

    async_task("officeapp.worker.tasks.queue_heartbeat", save=False)
    _queue_requested_at = now


def queue_heartbeat() -> None:
    beat("queue")


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    now = now or timezone.now()
    beats = dict(WorkerHeartbeat.objects.values_list("name", "beat_at"))
    return {
        name: (now - beats[name]).total_seconds() if name in beats else None for name in ("ticker", "queue")
    }


def worker_health() -> dict[str, object]:
    """Health check "worker": the ticker and a worker of the queue have shown life recently."""
    ages = heartbeat_ages()
    limits = {"ticker": TICKER_STALE_SECONDS, "queue": QUEUE_STALE_SECONDS}
    labels = {"ticker": "定时器（ticker）", "queue": "任务队列（qcluster）"}
    dead = [labels[name] for name, age in ages.items() if age is None or age > limits[name]]
    if dead:
        raise RuntimeError(f"后台任务进程无心跳：{'、'.join(dead)}")
    return {"heartbeat_age_seconds": {name: round(age or 0.0, 1) for name, age in ages.items()}}


# --- viewflow ---------------------------------------------------------------------------------
def run_workflow_timers() -> str:
    """viewflow 2.4 fires due timers and scheduled starts only from this management command."""
    out = io.StringIO()
    call_command("workflow_timers", stdout=out)
    return out.getvalue().strip()
