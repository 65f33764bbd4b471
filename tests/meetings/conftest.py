from __future__ import annotations

from typing import Any

import pytest

from tests.meetings.meetings_cast import MeetingsCast, build_meetings_cast


@pytest.fixture
def meetings(cast: Any) -> MeetingsCast:
    """The meetings cast (tests/meetings/meetings_cast.py)."""
    return build_meetings_cast(cast)
