"""Background work of meetings: the reminder run (worker schedule "meetings.reminders")."""

from __future__ import annotations

from officeapp.worker.schedules import Schedule

# Every minute: a meeting's silent people are reminded within a minute of its reminder time.
REMIND_SCHEDULE = Schedule("meetings.reminders", "meetings.tasks.remind_due_job", seconds=60)


def remind_due_job() -> str:
    """Idempotent: each silent person is reminded once (Rsvp.reminded_at), however often it runs."""
    from meetings.services import remind_due

    return f"reminded {remind_due()}"
