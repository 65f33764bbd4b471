"""Background jobs of the flows, run by the worker (django-q2; see officeapp.worker.schedules).

`scan_reminders_job` is registered as the schedule "workflows.reminders" (every 10 minutes). Each
run is idempotent: a reminder already sent today is found by its unique row and skipped, so a run
repeated, redelivered after a crash, or overlapping another sends nothing twice.
"""

from __future__ import annotations

import logging

from officeapp.worker.schedules import Schedule
from workflows.urging import scan_reminders

logger = logging.getLogger(__name__)

REMINDER_SCHEDULE = Schedule("workflows.reminders", "workflows.tasks.scan_reminders_job", seconds=600)


def scan_reminders_job() -> str:
    """Send today's automatic reminders (催办); returns a one-line summary for the task log."""
    report = scan_reminders()
    if report.rest_day:
        return f"{report.today}: 非工作日，不发送催办"
    sent = ", ".join(f"{kind}={n}" for kind, n in sorted(report.sent.items())) or "none"
    summary = (
        f"{report.today}: scanned {report.scanned} tasks, sent {sent}, "
        f"already sent {report.already_sent}, retried batches {report.retried}"
    )
    logger.info("reminder scan %s", summary)
    return summary
