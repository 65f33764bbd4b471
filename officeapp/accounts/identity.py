"""Outside identity sources: officeapp as a relying party of the province's 统一身份认证 — an LDAP
directory (django-auth-ldap, officeapp.accounts.ldap_backend) and/or an OpenID Connect provider
(mozilla-django-oidc, officeapp.accounts.oidc_backend) — chosen by settings, and the one rule both
follow to map an outside account to a user.

The rule: an outside account is matched to an EXISTING, active officeapp user by one configured
attribute (LDAP) or claim (OIDC) equal to one configured User field (username or employee_no). The
organisation is maintained here (the 系统管理员 creates 公务员 and their departments), so nobody is
created from outside, and no user field is ever written from outside: the directory may carry other
names, titles and departments than officeapp's own, and a sync would silently overwrite what the
administrators maintain — and with it who sees which document.

The settings part (settings_from_env and the builders) imports nothing of Django's auth machinery:
officeapp/settings.py calls it. The rest imports models inside the functions for the same reason.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied

if TYPE_CHECKING:
    from officeapp.org.models import User

LOCAL_BACKEND = "officeapp.accounts.backends.LockoutAwareBackend"
LDAP_BACKEND = "officeapp.accounts.ldap_backend.OfficeLdapBackend"
OIDC_BACKEND = "officeapp.accounts.oidc_backend.OfficeOidcBackend"
OUTSIDE_ONLY_GATE = "officeapp.accounts.identity.OutsideOnlyGate"

SOURCE_LOCAL = "local"
SOURCE_LDAP = "ldap"
SOURCE_OIDC = "oidc"

# User fields an outside account may be matched on: unique, and maintained by officeapp's own
# administrators. (email and mobile are not unique; real_name certainly is not.)
MATCH_FIELDS: tuple[str, ...] = ("username", "employee_no")

MSG_UNLINKED = "统一身份认证账号未关联本系统用户，请联系系统管理员。"
MSG_UNAVAILABLE = "统一身份认证服务暂时不可用，请稍后再试。"
MSG_OIDC_FAILED = "统一身份认证登录未完成，请重新登录。"
DEFAULT_SIGN_IN_LABEL = "统一身份认证登录"


# --- Settings (read by officeapp/settings.py; no Django models here) -----------------------------


def _flag(values: Mapping[str, str], name: str) -> bool:
    raw = values.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ImproperlyConfigured(f"{name} 应为 true 或 false，现为 {raw!r}。")


def _match_field(values: Mapping[str, str], name: str, default: str) -> str:
    field = values.get(name, "").strip() or default
    if field not in MATCH_FIELDS:
        raise ImproperlyConfigured(f"{name} 只能是 {'、'.join(MATCH_FIELDS)} 之一，现为 {field!r}。")
    return field


def authentication_backends(*, ldap: bool, oidc: bool, ldap_only: bool, oidc_only: bool) -> list[str]:
    """The backends in the order Django tries them. Local passwords first, so a directory outage
    never slows a local sign-in; under LDAP_ONLY the directory goes first and the gate stops the
    local password for everyone but the 三员 (the break-glass: they must be able to sign in while
    the directory is down, and they still need their TOTP). The local backend always stays: every
    session is served by its get_user, whoever checked the password."""
    backends: list[str] = []
    if ldap and ldap_only:
        backends.append(LDAP_BACKEND)
    if ldap_only or oidc_only:
        backends.append(OUTSIDE_ONLY_GATE)
    backends.append(LOCAL_BACKEND)
    if ldap and not ldap_only:
        backends.append(LDAP_BACKEND)
    if oidc:
        backends.append(OIDC_BACKEND)
    return backends


def ldap_settings(
    *,
    server_uri: str,
    user_search_base: str,
    bind_dn: str = "",
    bind_password: str = "",
    user_filter: str = "(uid=%(user)s)",
    match_attribute: str = "uid",
    match_field: str = "username",
    start_tls: bool = False,
    timeout_seconds: float = 5.0,
) -> dict[str, Any]:
    """django-auth-ldap's settings for a search-then-bind sign-in that never writes a user field."""
    import ldap
    from django_auth_ldap.config import LDAPSearch

    if match_field not in MATCH_FIELDS:
        raise ImproperlyConfigured(f"LDAP_MATCH_FIELD 只能是 {'、'.join(MATCH_FIELDS)} 之一。")
    return {
        "AUTH_LDAP_SERVER_URI": server_uri,
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_search_base, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_USER_ATTRLIST": sorted({"uid", match_attribute}),
        "AUTH_LDAP_START_TLS": start_tls,
        # Never from LDAP: no field copied, no user created, no group or permission mirrored.
        "AUTH_LDAP_USER_ATTR_MAP": {},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": False,
        "AUTH_LDAP_NO_NEW_USERS": True,
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        # A cached DN would outlive a change in the directory (and an outage's empty answer).
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        # A dead directory must not hang the sign-in page: connect and answer within the timeout.
        "AUTH_LDAP_CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: timeout_seconds,
            ldap.OPT_TIMEOUT: timeout_seconds,
            ldap.OPT_REFERRALS: 0,
        },
        "OFFICEAPP_LDAP_MATCH": (match_attribute, match_field),
    }


def oidc_settings(
    *,
    client_id: str,
    client_secret: str,
    authorization_endpoint: str = "",
    token_endpoint: str = "",
    user_endpoint: str = "",
    jwks_endpoint: str = "",
    discovery_url: str = "",
    match_claim: str = "preferred_username",
    match_field: str = "username",
    sign_in_label: str = DEFAULT_SIGN_IN_LABEL,
    scopes: str = "openid profile",
    timeout_seconds: float = 10.0,
) -> dict[str, Any]:
    """mozilla-django-oidc's settings: code flow with PKCE and a nonce, ID token RS256-verified
    against the provider's JWKS, no user created. An endpoint left empty comes from discovery_url
    (oidc_endpoint)."""
    if match_field not in MATCH_FIELDS:
        raise ImproperlyConfigured(f"OIDC_RP_MATCH_FIELD 只能是 {'、'.join(MATCH_FIELDS)} 之一。")
    return {
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": token_endpoint,
        "OIDC_OP_USER_ENDPOINT": user_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": jwks_endpoint,
        "OIDC_RP_DISCOVERY_URL": discovery_url,
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": scopes,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_CREATE_USER": False,
        "OIDC_TIMEOUT": timeout_seconds,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:oidc_callback",
        "LOGIN_REDIRECT_URL_FAILURE": "/accounts/sign-in/",
        "OFFICEAPP_OIDC_MATCH": (match_claim, match_field),
        "OFFICEAPP_OIDC_SIGN_IN_LABEL": sign_in_label,
    }


ENDPOINT_SETTINGS: dict[str, str] = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_CACHE_SECONDS = 3600.0
_discovered: dict[str, Any] = {}


def oidc_endpoint(name: str) -> str:
    """One provider endpoint: the OIDC_OP_* setting when given, else from OIDC_RP_DISCOVERY_URL, read
    when first needed (not at start-up: a provider that is down must not stop officeapp starting, local
    sign-in goes on) and kept for an hour. Raises requests.RequestException while it cannot be read."""
    import time

    import requests
    from django.conf import settings

    configured = getattr(settings, name, "")
    if configured:
        return str(configured)
    url = getattr(settings, "OIDC_RP_DISCOVERY_URL", "")
    if not url:
        raise ImproperlyConfigured(f"未设置 {name}，也未设置 OIDC_RP_DISCOVERY_URL。")
    cached = _discovered.get(url)
    if cached is None or time.monotonic() - cached[0] > DISCOVERY_CACHE_SECONDS:
        response = requests.get(url, timeout=getattr(settings, "OIDC_TIMEOUT", 10))
        response.raise_for_status()
        try:
            document = response.json()
            endpoints = {key: str(document[field]) for key, field in ENDPOINT_SETTINGS.items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise requests.RequestException(f"malformed discovery document: {exc}") from exc
        cached = (time.monotonic(), endpoints)
        _discovered[url] = cached
    return str(cached[1][name])


def settings_from_env(values: Mapping[str, str]) -> dict[str, Any]:
    """Every setting of the outside identity sources from the environment. Nothing set: neither
    source, local passwords only (as before)."""
    out: dict[str, Any] = {}
    ldap_on = bool(values.get("LDAP_SERVER_URI", "").strip())
    oidc_on = bool(values.get("OIDC_RP_CLIENT_ID", "").strip())
    ldap_only = _flag(values, "LDAP_ONLY")
    oidc_only = _flag(values, "OIDC_ONLY")
    if ldap_only and not ldap_on:
        raise ImproperlyConfigured("设置了 LDAP_ONLY，但未设置 LDAP_SERVER_URI。")
    if oidc_only and not oidc_on:
        raise ImproperlyConfigured("设置了 OIDC_ONLY，但未设置 OIDC_RP_CLIENT_ID。")
    if ldap_on:
        search_base = values.get("LDAP_USER_SEARCH_BASE", "").strip()
        if not search_base:
            raise ImproperlyConfigured("设置了 LDAP_SERVER_URI，还须设置 LDAP_USER_SEARCH_BASE。")
        out.update(
            ldap_settings(
                server_uri=values["LDAP_SERVER_URI"].strip(),
                user_search_base=search_base,
                bind_dn=values.get("LDAP_BIND_DN", ""),
                bind_password=values.get("LDAP_BIND_PASSWORD", ""),
                user_filter=values.get("LDAP_USER_FILTER", "").strip() or "(uid=%(user)s)",
                match_attribute=values.get("LDAP_MATCH_ATTRIBUTE", "").strip() or "uid",
                match_field=_match_field(values, "LDAP_MATCH_FIELD", "username"),
                start_tls=_flag(values, "LDAP_START_TLS"),
                timeout_seconds=float(values.get("LDAP_TIMEOUT_SECONDS", "") or 5),
            )
        )
    if oidc_on:
        timeout = float(values.get("OIDC_RP_TIMEOUT_SECONDS", "") or 10)
        endpoints = {
            "authorization_endpoint": values.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "").strip(),
            "token_endpoint": values.get("OIDC_OP_TOKEN_ENDPOINT", "").strip(),
            "user_endpoint": values.get("OIDC_OP_USER_ENDPOINT", "").strip(),
            "jwks_endpoint": values.get("OIDC_OP_JWKS_ENDPOINT", "").strip(),
        }
        discovery = values.get("OIDC_RP_DISCOVERY_URL", "").strip()
        if not all(endpoints.values()) and not discovery:
            raise ImproperlyConfigured(
                "设置了 OIDC_RP_CLIENT_ID，还须设置 OIDC_RP_DISCOVERY_URL，或 OIDC_OP_AUTHORIZATION_ENDPOINT、"
                "OIDC_OP_TOKEN_ENDPOINT、OIDC_OP_USER_ENDPOINT、OIDC_OP_JWKS_ENDPOINT。"
            )
        out.update(
            oidc_settings(
                client_id=values["OIDC_RP_CLIENT_ID"].strip(),
                client_secret=values.get("OIDC_RP_CLIENT_SECRET", ""),
                match_claim=values.get("OIDC_RP_MATCH_CLAIM", "").strip() or "preferred_username",
                match_field=_match_field(values, "OIDC_RP_MATCH_FIELD", "username"),
                sign_in_label=values.get("OIDC_RP_SIGN_IN_LABEL", "").strip() or DEFAULT_SIGN_IN_LABEL,
                scopes=values.get("OIDC_RP_SCOPES", "").strip() or "openid profile",
                timeout_seconds=timeout,
                discovery_url=discovery,
                **endpoints,
            )
        )
    out["AUTHENTICATION_BACKENDS"] = authentication_backends(
        ldap=ldap_on, oidc=oidc_on, ldap_only=ldap_only, oidc_only=oidc_only
    )
    out["LDAP_ONLY"] = ldap_only
    out["OIDC_ONLY"] = oidc_only
    return out


def oidc_enabled() -> bool:
    from django.conf import settings

    return OIDC_BACKEND in settings.AUTHENTICATION_BACKENDS


def oidc_sign_in_label() -> str:
    from django.conf import settings

    return getattr(settings, "OFFICEAPP_OIDC_SIGN_IN_LABEL", DEFAULT_SIGN_IN_LABEL)


# --- Why an outside source said no (read by the sign-in service) ----------------------------------


@dataclass(frozen=True)
class Refusal:
    source: str
    reason: str  # "unlinked" | "unavailable"
    message: str


_refusal: contextvars.ContextVar[Refusal | None] = contextvars.ContextVar("outside_refusal", default=None)


def clear_refusal() -> None:
    _refusal.set(None)


def refuse(source: str, reason: str, message: str) -> None:
    _refusal.set(Refusal(source, reason, message))


def take_refusal() -> Refusal | None:
    """The outside source's own reason for the last refused attempt in this context (an account not
    linked to a user, the source down), once; None when the generic message is the right one."""
    refusal = _refusal.get()
    _refusal.set(None)
    return refusal


def source_of(user: Any) -> str:
    """Which source checked the password of a user returned by django.contrib.auth.authenticate."""
    backend = getattr(user, "backend", "") or ""
    if backend == LDAP_BACKEND:
        return SOURCE_LDAP
    if backend == OIDC_BACKEND:
        return SOURCE_OIDC
    return SOURCE_LOCAL


# --- The mapping -------------------------------------------------------------------------------


def matching_user(field: str, value: str) -> User | None:
    """The one officeapp user whose `field` equals the outside account's value, active or not (the
    caller tells a disabled user apart); None when there is none."""
    from officeapp.org.models import User

    if field not in MATCH_FIELDS or not value:
        return None
    lookup = "username__iexact" if field == "username" else field
    return User.objects.select_related("department__agency").filter(**{lookup: value}).first()


def record_outside(
    source: str,
    *,
    user: Any = None,
    outcome: str | None = None,
    details: dict[str, Any] | None = None,
    object_id: str = "",
) -> None:
    """An audit row of what the outside source said and to whom it was mapped
    ("accounts.identity.ldap" / "accounts.identity.oidc")."""
    from officeapp.audit.models import Outcome
    from officeapp.audit.services import record

    record(
        f"accounts.identity.{source}",
        actor=user,
        obj=user,
        object_type="" if user is not None else "accounts.signin",
        object_id="" if user is not None else object_id,
        outcome=outcome or Outcome.SUCCESS,
        details={"source": source, **(details or {})},
    )


# --- LDAP_ONLY / OIDC_ONLY -----------------------------------------------------------------------


class OutsideOnlyGate:
    """Placed before the local backend when LDAP_ONLY or OIDC_ONLY is set: a password sign-in of
    anyone but an administrator (三员) stops here, so only the outside source can sign them in. The
    三员 keep their local password as the break-glass (plus their TOTP)."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None) -> None:
        from officeapp.access import admin_role_of

        if username is None:
            return None
        user = matching_user("username", username)
        if user is not None and user.is_active and admin_role_of(user) is not None:
            return None  # on to the local backend
        raise PermissionDenied

    def get_user(self, user_id: Any) -> None:
        return None
