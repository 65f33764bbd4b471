"""Client address and session policy.

The client address comes from X-Forwarded-For only when the request arrives from a configured
trusted proxy (TRUSTED_PROXIES); otherwise a client could forge it and dodge the per-address limit.
"""

from __future__ import annotations

import contextvars
import ipaddress
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device

from officeapp.access import admin_role_of

if TYPE_CHECKING:
    from officeapp.org.models import User

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
# Set at sign-in: this session must show a TOTP code before it reaches any page.
SESSION_OTP_REQUIRED = "officeapp_otp_required"
# Left in the fresh anonymous session when a session ends, so the sign-in page can say why.
SESSION_ENDED = "officeapp_expired"
ENDED_TIMEOUT = "timeout"
ENDED_ELSEWHERE = "signed_out_everywhere"


def start_session(session: SessionBase, user: User, *, otp_required: bool) -> None:
    """Stamp a freshly signed-in session with its start, last activity and the user's epoch."""
    now = time.time()
    session[SESSION_STARTED] = now
    session[SESSION_SEEN] = now
    session[SESSION_EPOCH] = user.session_epoch
    session[SESSION_OTP_REQUIRED] = otp_required


def session_end_reason(session: SessionBase, user: Any, now: float | None = None) -> str | None:
    """Why this signed-in session is over (ENDED_ELSEWHERE, ENDED_TIMEOUT), or None. Reads only:
    the page middleware and the websocket consumer apply the same rules through here."""
    now = time.time() if now is None else now
    started = session.get(SESSION_STARTED, now)
    seen = session.get(SESSION_SEEN, now)
    if session.get(SESSION_EPOCH, user.session_epoch) != user.session_epoch:
        return ENDED_ELSEWHERE
    if (
        now - seen > settings.SESSION_IDLE_MINUTES * 60
        or now - started > settings.SESSION_ABSOLUTE_HOURS * 3600
    ):
        return ENDED_TIMEOUT
    return None


def _otp_verified_in(session: SessionBase, user: Any) -> bool:
    """django-otp's OTPMiddleware decides this for pages; a socket has only its session."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and getattr(device, "confirmed", False)


def _otp_still_required(session: SessionBase, user: Any) -> bool:
    """Asked only of a session not (or no longer) verified: administrators always need a code;
    anyone else only while they still have a device. Someone who turned TOTP off had it when this
    session started, and must not be sent to enrol again."""
    if admin_role_of(user) is not None:
        return True
    if not session.get(SESSION_OTP_REQUIRED):
        return False
    if user_has_device(user, confirmed=True):
        return True
    session[SESSION_OTP_REQUIRED] = False  # turned off since sign-in: not asked again, nor looked up
    return False


def session_fully_signed_in(session: SessionBase, user: Any) -> bool:
    """A live session that has passed every step (second factor, first password change): what a
    websocket needs before it may receive anything."""
    if not user.is_active or session_end_reason(session, user) is not None:
        return False
    if not _otp_verified_in(session, user) and _otp_still_required(session, user):
        return False
    return not user.must_change_password


class SessionPolicyMiddleware:
    """The session rules, on every request of a signed-in user:

    - idle timeout (SESSION_IDLE_MINUTES) and absolute timeout (SESSION_ABSOLUTE_HOURS);
    - "sign out everywhere": a session stamped with an older User.session_epoch is ended;
    - second factor: an administrator (三员), or anyone who enrolled TOTP, reaches no page but the
      verification page until the session is verified;
    - first sign-in: a user with must_change_password reaches no page but the password page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._enforce_timeouts(request, user)
            if ended:
                logout(request)
                request.session[SESSION_ENDED] = ended
            else:
                detour = self._pending_step(request, user)
                if detour is not None:
                    return detour
        return self.get_response(request)

    @staticmethod
    def _enforce_timeouts(request: HttpRequest, user: Any) -> str | None:
        now = time.time()
        session = request.session
        ended = session_end_reason(session, user, now)
        if ended:
            return ended
        seen = session.get(SESSION_SEEN, now)
        session[SESSION_STARTED] = session.get(SESSION_STARTED, now)
        session[SESSION_EPOCH] = session.get(SESSION_EPOCH, user.session_epoch)
        # Write the last-seen stamp at most once a minute to spare the session store.
        if now - seen > 60 or SESSION_SEEN not in session:
            session[SESSION_SEEN] = now
        return None

    @staticmethod
    def _pending_step(request: HttpRequest, user: Any) -> HttpResponse | None:
        path = request.path
        if path.startswith(settings.STATIC_URL) or path.startswith("/healthz"):
            return None
        sign_out = reverse("accounts:sign_out")
        verified = getattr(user, "is_verified", None)
        if not (verified and verified()) and _otp_still_required(request.session, user):
            target = reverse("accounts:verify_otp")
        elif user.must_change_password:
            target = reverse("accounts:change_password")
        else:
            return None
        if path in (target, sign_out):
            return None
        url = (
            f"{target}?{urlencode({'next': request.get_full_path()})}" if request.method == "GET" else target
        )
        # Read the header itself: django-htmx's middleware runs after this one.
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the page into a fragment; make the browser navigate instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
