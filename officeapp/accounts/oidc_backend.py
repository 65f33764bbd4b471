"""OpenID Connect sign-in as a relying party (mozilla-django-oidc): the authorization code flow with
PKCE and a nonce; the ID token is verified (RS256, the provider's JWKS); the configured claim of the
userinfo answer is matched to an existing officeapp user (officeapp.accounts.identity).

The callback view signs the user in exactly as the sign-in page does: the session is served by the
local backend, stamped by start_session (idle and absolute timeouts, epoch), and an administrator (三员)
or anyone with TOTP is then stopped by SessionPolicyMiddleware until the code is shown. The outside
sign-in replaces the password, never the second factor.

No lockout applies here: nothing is guessed on our side (the provider counts its own passwords), and
a lock left by someone guessing a name's local password must not keep its owner out of 统一身份认证.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from officeapp.accounts import identity
from officeapp.accounts.backends import LockoutAwareBackend
from officeapp.audit.models import Outcome

MSG_DISABLED = "您在本系统的账号已停用，无法登录。如有疑问，请联系系统管理员。"


def _match() -> tuple[str, str]:
    return getattr(settings, "OFFICEAPP_OIDC_MATCH", ("preferred_username", "username"))


def _get_settings(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings lookup, with the endpoints read from discovery when not given."""
    if attr in identity.ENDPOINT_SETTINGS:
        return identity.oidc_endpoint(attr)
    return import_from_settings(attr, *args)


def _endpoint(name: str) -> property:
    return property(lambda self: identity.oidc_endpoint(name))


class OfficeOidcBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(_get_settings)
    # Read when a code is exchanged, not when the backend is made: Django makes every backend for
    # every password sign-in too, and a provider that is down must not break those.
    OIDC_OP_TOKEN_ENDPOINT = _endpoint("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _endpoint("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _endpoint("OIDC_OP_JWKS_ENDPOINT")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.contrib.auth import get_user_model

        self.OIDC_RP_CLIENT_ID = import_from_settings("OIDC_RP_CLIENT_ID")
        self.OIDC_RP_CLIENT_SECRET = import_from_settings("OIDC_RP_CLIENT_SECRET")
        self.OIDC_RP_SIGN_ALGO = import_from_settings("OIDC_RP_SIGN_ALGO", "RS256")
        # Always the provider's JWKS, never a key pasted into the settings.
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Not reached by a password sign-in's refusal (request None, no code): that stays as it is.
        if request is None or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.HTTPError as exc:
            # The provider answered, and said no (an expired or replayed code): start again.
            status = exc.response.status_code if exc.response is not None else 0
            reason = "unavailable" if status >= 500 else "rejected"
            message = identity.MSG_UNAVAILABLE if status >= 500 else identity.MSG_OIDC_FAILED
            identity.refuse(identity.SOURCE_OIDC, reason, message)
            identity.record_outside(
                identity.SOURCE_OIDC, outcome=Outcome.FAILED, details={"reason": reason, "status": status}
            )
        except requests.RequestException as exc:
            identity.refuse(identity.SOURCE_OIDC, "unavailable", identity.MSG_UNAVAILABLE)
            identity.record_outside(
                identity.SOURCE_OIDC,
                outcome=Outcome.FAILED,
                details={"reason": "unavailable", "error": type(exc).__name__},
            )
        except SuspiciousOperation as exc:
            # A token whose signature or nonce does not verify: never trusted, never explained.
            identity.refuse(identity.SOURCE_OIDC, "invalid_token", identity.MSG_OIDC_FAILED)
            identity.record_outside(
                identity.SOURCE_OIDC,
                outcome=Outcome.DENIED,
                details={"reason": "invalid_token", "error": str(exc)[:200]},
            )
        return None

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        claim, _ = _match()
        return bool(claims.get(claim))

    def describe_user_by_claims(self, claims: dict[str, Any]) -> str:
        claim, _ = _match()
        return f"{claim} {claims.get(claim)!r}"

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        """The users whose configured field equals the configured claim (disabled ones included, so
        the callback can say why they are refused)."""
        from officeapp.org.models import User

        claim, field = _match()
        value = claims.get(claim)
        if value in (None, "") or field not in identity.MATCH_FIELDS:
            return User.objects.none()
        lookup = "username__iexact" if field == "username" else field
        return User.objects.select_related("department__agency").filter(**{lookup: str(value)})

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        user_info = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(user_info):
            raise SuspiciousOperation("the configured claim is missing from the userinfo answer")
        users = list(self.filter_users_by_claims(user_info)[:2])
        claim, field = _match()
        if len(users) > 1:
            raise SuspiciousOperation(f"several users match {claim}")
        if not users:
            return self.create_user(user_info)
        user = users[0]
        if not user.is_active:
            identity.refuse(identity.SOURCE_OIDC, "disabled", MSG_DISABLED)
            identity.record_outside(
                identity.SOURCE_OIDC,
                outcome=Outcome.DENIED,
                object_id=str(user_info.get(claim)),
                details={"reason": "disabled", "user": user.pk},
            )
            return None
        # No update_user: not one field of ours is written from the provider's claims.
        identity.record_outside(
            identity.SOURCE_OIDC, user=user, details={"claim": claim, "subject": str(payload.get("sub", ""))}
        )
        return user

    def create_user(self, claims: dict[str, Any]) -> None:  # type: ignore[override]
        """Never: outside accounts map to users the 系统管理员 created (identity's docstring)."""
        claim, field = _match()
        identity.refuse(identity.SOURCE_OIDC, "unlinked", identity.MSG_UNLINKED)
        identity.record_outside(
            identity.SOURCE_OIDC,
            outcome=Outcome.DENIED,
            object_id=str(claims.get(claim, ""))[:150],
            details={"reason": "unlinked", "match": f"{claim}→{field}"},
        )
        return None

    def get_user(self, user_id: Any) -> Any:
        return LockoutAwareBackend().get_user(user_id)


class OidcSignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and the PKCE verifier kept in the session)."""

    get_settings = staticmethod(_get_settings)


def start_oidc_sign_in(request: HttpRequest) -> HttpResponse:
    """The redirect to the provider, or back to the sign-in page saying the service is down."""
    try:
        return OidcSignInView.as_view()(request)
    except requests.RequestException:
        messages.error(request, identity.MSG_UNAVAILABLE)
        return redirect("accounts:sign_in")


class OidcCallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(_get_settings)

    def get(self, request: HttpRequest) -> HttpResponse:
        identity.clear_refusal()
        try:
            return super().get(request)
        except requests.RequestException:
            identity.refuse(identity.SOURCE_OIDC, "unavailable", identity.MSG_UNAVAILABLE)
            return self.login_failure()

    def login_failure(self) -> HttpResponse:
        refusal = identity.take_refusal()
        messages.error(self.request, refusal.message if refusal else identity.MSG_OIDC_FAILED)
        return redirect("accounts:sign_in")

    def login_success(self) -> HttpResponse:
        from officeapp.accounts import services
        from officeapp.accounts.middleware import start_session
        from officeapp.audit.services import record

        user = self.user
        with transaction.atomic():
            # The local backend serves the session, as after a password sign-in.
            login(self.request, user, backend=identity.LOCAL_BACKEND)
            start_session(self.request.session, user, otp_required=services.otp_required(user))
            record("accounts.sign_in", actor=user, obj=user, details={"source": identity.SOURCE_OIDC})
        self.request.session["oidc_id_token_expiration"] = time.time() + self.get_settings(
            "OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", 60 * 15
        )
        # The session policy sends administrators on to TOTP and first-timers to the password page.
        return HttpResponseRedirect(self.success_url)
