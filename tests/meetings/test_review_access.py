"""meetings.access.parse_id: whatever a URL part, a form value or a socket frame carries, an id or
None — never an exception (chat.access.parse_id is the model)."""

from __future__ import annotations

import pytest

from meetings.access import MAX_ID, parse_id


@pytest.mark.parametrize(
    "value",
    ["9" * 5000, "²", "１２", str(MAX_ID + 1), 2**80, -1, 0, "0", "-1", "", " 1", True, 1.0, None, [], {}],
)
def test_parse_id_answers_none_for_what_is_no_database_id(value: object) -> None:
    assert parse_id(value) is None


@pytest.mark.parametrize(("value", "expected"), [("1", 1), (7, 7), (str(MAX_ID), MAX_ID), (MAX_ID, MAX_ID)])
def test_parse_id_reads_every_id_the_database_holds(value: object, expected: int) -> None:
    assert parse_id(value) == expected
