"""Background jobs of 督查督办, run by the worker (django-q2; see officeapp.worker.schedules).

One schedule, "workflows.supervision", every hour: the 红黄绿灯 of every open item on today's date
(`recompute_lights`), then the 进展反馈 reminders (`scan_report_reminders`), in that order so the
scan reads fresh next-report dates.

Why hourly rather than once at night: both steps are idempotent and cheap when nothing is owed
(the recompute writes only rows whose light changed; the scan's query leaves out items already
reminded today), so running every hour costs little and means
- lights turn within an hour of midnight, whatever time the worker was (re)started;
- a run lost to a crash, a deploy or a stopped worker is made up the same day, and each reminder
  still goes out exactly once (unique per task, kind and day);
- nothing depends on one precise firing time, which django-q2's scheduler does not promise.
The deadline reminders (到期/超期, escalations) of the 承办 task come from workflows.tasks'
"workflows.reminders" schedule through the task's TaskDue, as for 收文 and 发文.
"""

from __future__ import annotations

import logging

from officeapp.worker.schedules import Schedule
from workflows.supervision_lights import recompute_lights, scan_report_reminders
from workflows.supervision_tally import rebuild

logger = logging.getLogger(__name__)

SUPERVISION_SCHEDULE = Schedule(
    "workflows.supervision", "workflows.supervision_tasks.supervision_job", seconds=3600
)


def recompute_lights_job() -> str:
    """Today's lights for every open item; returns a one-line summary for the task log."""
    summary = recompute_lights().summary()
    logger.info("supervision lights %s", summary)
    return summary


def scan_report_reminders_job() -> str:
    """Today's 进展反馈 reminders, each exactly once; returns a one-line summary."""
    summary = scan_report_reminders().summary()
    logger.info("supervision report reminders %s", summary)
    return summary


def rebuild_tally_job() -> str:
    """The 督办看板 counts (SupervisionTally) replaced by a fresh count: the hour's change rows go."""
    rows = rebuild()
    logger.info("supervision tally rebuilt, %d rows", rows)
    return f"tally {rows} rows"


def supervision_job() -> str:
    """The hourly job: lights first (the scan reads their next-report dates), then reminders, then
    the dashboard's counts compacted (D24)."""
    return f"{recompute_lights_job()}; {scan_report_reminders_job()}; {rebuild_tally_job()}"
