"""Periodic schedules that apps register, and their synchronisation into django-q2.

Apps register `Schedule` instances in `officeapp.registries.worker_schedules` from
`AppConfig.ready()`. Two kinds, chosen by `seconds`:

* `seconds >= 60`: a django-q2 `Schedule` row (type MINUTES, minutes = seconds // 60), written by
  `sync_schedules()` (`manage.py sync_schedules`, run by `manage.py serve`). The cluster's scheduler
  checks due rows about every 30 s and enqueues them: durable, retried, visible in the admin.
* `seconds < 60`: django-q2 cannot fire those reliably (MINUTES needs minutes >= 1 and its
  scheduler wakes only every ~30 s), so they are run in-process by the ticker
  (`manage.py ticker`, officeapp.worker.ticker), a small loop that `serve` starts next to the cluster.
  A ticker job must be cheap, idempotent and safe when two tickers run it at once (the outbox drain
  locks its cursor rows; audit chaining locks its chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule as QSchedule

from officeapp.registries import worker_schedules

# django-q rows we own carry this prefix, so rows created by hand in the admin are left alone.
NAME_PREFIX = "officeapp:"


@dataclass(frozen=True)
class Schedule:
    name: str
    func: str  # dotted path of a module-level function taking no arguments
    seconds: int

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError(f"schedule {self.name}: seconds must be >= 1")
        if "." not in self.func:
            raise ValueError(f"schedule {self.name}: func must be a dotted path")

    @property
    def runs_on_ticker(self) -> bool:
        return self.seconds < 60

    @property
    def minutes(self) -> int:
        return max(self.seconds // 60, 1)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ticker: list[str] = field(default_factory=list)


def registered_schedules() -> list[Schedule]:
    return worker_schedules.values()


def ticker_schedules() -> list[Schedule]:
    return [s for s in registered_schedules() if s.runs_on_ticker]


@transaction.atomic
def sync_schedules() -> SyncReport:
    """Make django-q2's Schedule rows match the registry (idempotent; safe to run at every start)."""
    report = SyncReport()
    wanted = {NAME_PREFIX + s.name: s for s in registered_schedules() if not s.runs_on_ticker}
    report.ticker = [s.name for s in ticker_schedules()]
    existing = {row.name: row for row in QSchedule.objects.filter(name__startswith=NAME_PREFIX)}
    for row_name, row in existing.items():
        if row_name not in wanted:
            row.delete()
            report.removed.append(row_name.removeprefix(NAME_PREFIX))
    for row_name, schedule in wanted.items():
        row = existing.get(row_name)
        if row is None:
            QSchedule.objects.create(
                name=row_name,
                func=schedule.func,
                schedule_type=QSchedule.MINUTES,
                minutes=schedule.minutes,
                repeats=-1,
                next_run=timezone.now(),
            )
            report.created.append(schedule.name)
        elif (row.func, row.schedule_type, row.minutes, row.repeats) != (
            schedule.func,
            QSchedule.MINUTES,
            schedule.minutes,
            -1,
        ):
            row.func = schedule.func
            row.schedule_type = QSchedule.MINUTES
            row.minutes = schedule.minutes
            row.repeats = -1
            row.save()
            report.updated.append(schedule.name)
    return report
