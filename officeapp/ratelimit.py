"""Fixed-window rate limits per person, on Django's cache (Redis in production, where `incr` is
atomic across processes; the local-memory cache in one process otherwise).

    if not within_rate(f"chat.send.{user.pk}", count=30, seconds=10):
        raise ChatError("发送过于频繁，请稍后再试。")

Each app names its own key and says its own sentence; this only counts.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def within_rate(key: str, *, count: int, seconds: int) -> bool:
    """Count one more event for `key` in the current window of `seconds`; False once the window
    already held `count` of them (the refused event is counted too, so hammering does not help)."""
    window = int(time.time() // seconds)
    bucket = f"rate.{key}.{window}"
    cache.add(bucket, 0, timeout=seconds + 1)
    try:
        seen = cache.incr(bucket)
    except ValueError:  # the bucket expired between add and incr
        cache.set(bucket, 1, timeout=seconds + 1)
        seen = 1
    return seen <= count
