"""Client address and session policy.

The client address comes from X-Forwarded-For only when the request arrives from a configured
trusted proxy (TRUSTED_PROXIES); otherwise a client could forge it and dodge the per-address limit.
"""

from __future__ import annotations

import contextvars
import ipaddress
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)


def current_client_address() -> str | None:
    return _client_address.get()


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.TRUSTED_PROXIES:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address_of(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    if remote and _is_trusted_proxy(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The right-most address not itself a trusted proxy is the client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _is_trusted_proxy(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    break
    return remote


class ClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = client_address_of(request)
        request.client_address = address  # type: ignore[attr-defined]
        token = _client_address.set(address)
        try:
            return self.get_response(request)
        finally:
            _client_address.reset(token)


SESSION_STARTED = "officeapp_started"
SESSION_SEEN = "officeapp_seen"
SESSION_EPOCH = "officeapp_epoch"


class SessionPolicyMiddleware:
    """Idle timeout (SESSION_IDLE_MINUTES), absolute timeout (SESSION_ABSOLUTE_HOURS) and
    "sign out everywhere" (a session stamped with an older User.session_epoch is ended)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            epoch = session.get(SESSION_EPOCH, user.session_epoch)
            expired = (
                now - seen > settings.SESSION_IDLE_MINUTES * 60
                or now - started > settings.SESSION_ABSOLUTE_HOURS * 3600
                or epoch != user.session_epoch
            )
            if expired:
                logout(request)
                request.session["officeapp_expired"] = True
            else:
                session[SESSION_STARTED] = started
                session[SESSION_EPOCH] = epoch
                # Write the last-seen stamp at most once a minute to spare the session store.
                if now - seen > 60 or SESSION_SEEN not in session:
                    session[SESSION_SEEN] = now
        return self.get_response(request)
