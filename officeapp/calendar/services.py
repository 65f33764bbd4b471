"""Maintaining the holiday table (节假日安排): every change audited and announced on the outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from officeapp.audit.services import record
from officeapp.calendar.access import can_manage_calendar
from officeapp.calendar.models import CalendarDay, CalendarYear
from officeapp.outbox.services import emit


def _require(actor: Any) -> None:
    if not can_manage_calendar(actor):
        raise PermissionDenied("只有系统管理员可以维护工作日历。")


def _announce(year: int) -> None:
    # Deadline caches and reminders elsewhere re-read the year when told it changed.
    emit("calendar.changed", object_type="calendar.calendaryear", object_id=year, payload={"year": year})


def set_calendar_day(*, actor: Any, date: date, kind: str, name: str) -> CalendarDay:
    """Add a holiday or 调休 working day, or change the one already on that date."""
    _require(actor)
    with transaction.atomic():
        day, created = CalendarDay.objects.update_or_create(date=date, defaults={"kind": kind, "name": name})
        record(
            "calendar.day.set",
            actor=actor,
            obj=day,
            details={"date": date.isoformat(), "kind": kind, "created": created},
        )
        _announce(date.year)
    return day


def remove_calendar_day(*, actor: Any, day: CalendarDay) -> None:
    _require(actor)
    with transaction.atomic():
        record(
            "calendar.day.remove",
            actor=actor,
            obj=day,
            details={"date": day.date.isoformat(), "kind": day.kind},
        )
        day.delete()
        _announce(day.date.year)


def mark_year_maintained(*, actor: Any, year: int) -> CalendarYear:
    """The year's official 节假日安排 is complete: deadlines stop falling back to plain weekends."""
    _require(actor)
    with transaction.atomic():
        entry, _ = CalendarYear.objects.update_or_create(
            year=year, defaults={"source": CalendarYear.Source.MANUAL, "maintained_by": actor}
        )
        record("calendar.year.maintain", actor=actor, obj=entry, details={"year": year})
        _announce(year)
    return entry


def unmark_year(*, actor: Any, year: int) -> None:
    _require(actor)
    with transaction.atomic():
        deleted, _ = CalendarYear.objects.filter(year=year).delete()
        record(
            "calendar.year.unmaintain",
            actor=actor,
            object_type="calendar.calendaryear",
            object_id=year,
            details={"year": year, "was_maintained": bool(deleted)},
        )
        _announce(year)
