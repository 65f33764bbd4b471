from __future__ import annotations

import sys
from typing import Any

from django.apps import AppConfig

CHAIN_SCHEDULE = "audit.chain_pending"
CHAIN_EVERY_SECONDS = 5
_FLUSH_MODULE = "django.core.management.commands.flush"


def _flush_allowed() -> int:
    """Answer for the SQLite DELETE trigger (migration 0004): 1 only while Django's `flush` command
    runs (the test runner empties tables with it between transactional tests), 0 otherwise.
    SQLite calls this from inside the DELETE, so the Python stack still holds its caller."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == _FLUSH_MODULE:
            return 1
        frame = frame.f_back
    return 0


def _register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "officeapp_audit_flush_allowed", 0, _flush_allowed, deterministic=False
        )


class AuditConfig(AppConfig):
    name = "officeapp.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from officeapp.registries import worker_schedules
        from officeapp.worker.schedules import Schedule

        connection_created.connect(
            _register_sqlite_functions, dispatch_uid="officeapp.audit.sqlite_functions"
        )
        # Every few seconds, on the worker's ticker: a row is chained (tamper-evident) moments after commit.
        entry = Schedule(
            name=CHAIN_SCHEDULE, func="officeapp.audit.chain.chain_pending", seconds=CHAIN_EVERY_SECONDS
        )
        if CHAIN_SCHEDULE not in worker_schedules:
            worker_schedules.register(CHAIN_SCHEDULE, entry)
