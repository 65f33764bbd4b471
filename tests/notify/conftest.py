"""Helpers for notification tests: socket headers for a signed-in cast member, a clean presence
store, and the in-memory SMS outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from officeapp.notify import presence, sms

ALLOWED_ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
def socket_headers(client: Any) -> Callable[..., Awaitable[list[tuple[bytes, bytes]]]]:
    """Headers a browser tab of `user` sends when it opens /ws/: its session cookie and our Origin.
    Awaitable, because the socket tests run in an event loop and signing in touches the database."""

    def _sign_in(user: Any) -> str:
        client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
        return session_key

    async def _headers(user: Any, origin: bytes = ALLOWED_ORIGIN) -> list[tuple[bytes, bytes]]:
        session_key = await database_sync_to_async(_sign_in)(user)
        return [(b"origin", origin), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())]

    return _headers


@pytest.fixture
def cast(cast: Any) -> Any:
    """The shared cast, with no presence left over: on Redis the cache outlives a run, and a stale
    key of a reused user id would make that user look online."""
    cache.delete_many([key for user in cast.users().values() for key in presence.presence_keys(user.pk)])
    return cast


@pytest.fixture
def sms_outbox(settings: Any) -> list[tuple[str, str]]:
    settings.SMS_BACKEND = "officeapp.notify.sms.LocmemSmsBackend"
    sms.outbox.clear()
    return sms.outbox


@pytest.fixture
async def close_thread_connections() -> Any:
    """The consumer's database work runs in asgiref's worker thread, whose connection (CONN_MAX_AGE on
    PostgreSQL) would otherwise outlive the test and block dropping the test database."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()
