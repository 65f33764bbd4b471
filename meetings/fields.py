"""Form fields and bounds shared by the meetings forms, for input the database or the calendar
arithmetic cannot take: an id past the largest database integer (a `pk__in` lookup with it raises
OverflowError on SQLite and DataError on PostgreSQL, a 500) and a date so far out that a day more or
less, or the shift to UTC, leaves Python's date range."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms

from meetings.access import parse_id

# Meetings, bookings and calendars live within these years; anything outside is a typing slip (and
# year 1 or 9999 would overflow as soon as a day is added or the time is stored in UTC).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100
MSG_OUT_OF_RANGE = f"日期须在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间。"


def in_range(value: date | datetime | None) -> bool:
    return value is None or EARLIEST_YEAR <= value.year <= LATEST_YEAR


def refuse_out_of_range(value: Any) -> Any:
    """A field's clean step: the value itself, or the Chinese refusal."""
    if isinstance(value, date) and not in_range(value):
        raise forms.ValidationError(MSG_OUT_OF_RANGE)
    return value


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField whose values must be database ids before they reach the query: a
    value that is none (too large, negative, text) is refused with the field's invalid_choice."""

    def _check_values(self, value: Any) -> Any:
        for raw in value:
            if parse_id(str(raw).strip()) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": raw}
                )
        return super()._check_values(value)
