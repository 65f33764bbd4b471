"""officeapp.ratelimit: a fixed window per key, counted on the cache."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from officeapp.ratelimit import within_rate


@pytest.mark.django_db
def test_a_key_gets_its_count_per_window_and_again_in_the_next_one() -> None:
    cache.clear()
    with time_machine.travel("2026-12-07 10:00:00 +0000", tick=False) as clock:
        assert [within_rate("t.a", count=3, seconds=10) for _ in range(4)] == [True, True, True, False]
        assert within_rate("t.b", count=3, seconds=10)  # another key has its own window
        clock.shift(10)
        assert within_rate("t.a", count=3, seconds=10)
