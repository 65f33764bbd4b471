"""Presence: has a user an open socket anywhere? Answered across processes through the Django cache.

The worker (another process) asks before it texts or mails an urgent notification, so presence
cannot live in a server process's memory. Each open socket claims one of PRESENCE_SLOTS keys of its
user with an atomic `cache.add` (`notify:presence:<user id>:<slot>` → connection id) that expires
after PRESENCE_TTL seconds; the server process refreshes the keys of all its sockets every
HEARTBEAT_SECONDS in one `set_many`, and releases a key when its socket closes. A crashed server
therefore stops counting as "online" within PRESENCE_TTL. "Online?" is one `get_many` over the
slots. A user with more tabs than slots is online anyway, so the extra tabs need no key.

The cache is Redis when REDIS_URL is set and the database cache table otherwise (`make run` runs
`createcachetable`; Django's test runner creates it for the test database).
"""

from __future__ import annotations

from django.core.cache import cache

PRESENCE_SLOTS = 8
PRESENCE_TTL = 75
HEARTBEAT_SECONDS = 25


def presence_keys(user_id: int) -> list[str]:
    return [f"notify:presence:{user_id}:{slot}" for slot in range(PRESENCE_SLOTS)]


def is_online(user_id: int) -> bool:
    return any(cache.get_many(presence_keys(user_id)).values())


async def claim(user_id: int, connection_id: str) -> str | None:
    """Take a free presence slot for this connection; None when every slot is taken."""
    for key in presence_keys(user_id):
        if await cache.aadd(key, connection_id, PRESENCE_TTL):
            return key
    return None


async def refresh(keys: dict[str, str]) -> None:
    if keys:
        await cache.aset_many(keys, PRESENCE_TTL)


async def release(key: str, connection_id: str) -> None:
    # Only our own claim: after an expiry another connection may hold the slot now.
    if await cache.aget(key) == connection_id:
        await cache.adelete(key)
