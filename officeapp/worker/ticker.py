"""The ticker: runs the sub-minute schedules (outbox drain, heartbeats, audit chaining) in-process.

django-q2's scheduler wakes about every 30 s and its shortest interval is one minute, which is too
coarse for the outbox drain (search freshness) and audit chaining (seconds). The ticker is a plain
loop: every `tick_seconds` it calls each due job directly — no queue round trip, no task rows. A job
that raises is logged and simply runs again at its next interval; jobs carry their own backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

from officeapp.worker.schedules import Schedule, ticker_schedules

logger = logging.getLogger(__name__)


class Ticker:
    def __init__(
        self,
        schedules: Iterable[Schedule] | None = None,
        *,
        tick_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.schedules = list(ticker_schedules() if schedules is None else schedules)
        self.tick_seconds = tick_seconds
        self.clock = clock
        self._next: dict[str, float] = {}

    def tick(self) -> list[str]:
        """Run every job that is due now; returns the names that ran."""
        ran: list[str] = []
        for schedule in self.schedules:
            now = self.clock()
            if now < self._next.get(schedule.name, 0.0):
                continue
            # Drop connections that CONN_MAX_AGE retired or an error broke, as a request would
            # (never inside a transaction: `ticker --once` may run inside a caller's).
            if not connection.in_atomic_block:
                close_old_connections()
            try:
                import_string(schedule.func)()
            except Exception:
                logger.exception("ticker job %s failed", schedule.name)
            self._next[schedule.name] = now + schedule.seconds
            ran.append(schedule.name)
        return ran

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.tick()
            stop.wait(self.tick_seconds)
        connection.close()
