"""The app registry's verbs: register, update, rotate a secret, suspend, resume.

Each verb is one transaction that writes an AuditEvent (object_type "integration.app", so it shows in
the app's 调用记录 beside its API calls) and an outbox event "integration.app.<verb>".

An app is two OAuth2 clients of our provider (see models.App). Their client secrets are hashed when
saved (django-oauth-toolkit's ClientSecretField), so the plaintext exists only in the value a verb
returns: the page shows it once and nobody can read it again — a lost secret is rotated.

Who may call a verb is the views' question (officeapp.integration.access); the verbs refuse what no
one may do (bad input) and what only the platform's 系统管理员 may decide (免授权确认, data of agencies
outside the owner's), with Chinese messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from officeapp.audit.services import record
from officeapp.integration import access
from officeapp.integration.models import App, AppStatus
from officeapp.org.models import Agency, Department, Role
from officeapp.outbox.services import emit

OBJECT_TYPE = "integration.app"
MAX_RATE_LIMIT = 100_000
MAX_URIS = 20

MSG_NAME_REQUIRED = "请填写应用名称。"
MSG_NAME_TAKEN = "本单位已有同名应用：{name}。"
MSG_URL = "访问地址须是完整的网址（{schemes}），或以 / 开头的站内地址。"
MSG_REDIRECT_REQUIRED = "请至少填写一个登录回调地址。"
MSG_REDIRECT = "回调地址“{uri}”无效：须以 {schemes}:// 开头、包含主机名且不含 # 片段。"
MSG_TOO_MANY_URIS = f"回调地址最多 {MAX_URIS} 个。"
MSG_SCOPE = "未知的授权范围：{scope}。"
MSG_ROLE = "未知的角色：{role}。"
MSG_RATE = f"每分钟调用上限须在 1 到 {MAX_RATE_LIMIT} 之间。"
MSG_DEPARTMENT = "可见部门须属于所选可见机关或所属机关。"
MSG_DATA_AGENCIES = "只有系统管理员可以授权读取所属机关及其下级机关以外的数据。"
MSG_SKIP_CONSENT = "只有系统管理员可以设置免授权确认。"
MSG_WHICH = "未知的密钥类型。"
MSG_NO_CLIENT = "该应用没有此类客户端。"
MSG_ALREADY_SUSPENDED = "该应用已停用。"
MSG_ALREADY_ACTIVE = "该应用已在启用状态。"


class RegistryError(Exception):
    """A refusal the page shows to the user (Chinese), with the field it concerns when there is one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class IssuedSecret:
    """A client's id and its secret in plaintext: shown once, never stored readable."""

    which: str  # "sso" | "service"
    client_id: str
    client_secret: str

    @property
    def label(self) -> str:
        return SECRET_LABELS[self.which]


SECRET_LABELS = {"sso": "单点登录客户端", "service": "接口调用客户端"}


@dataclass(frozen=True)
class Registered:
    app: App
    secrets: list[IssuedSecret]


# --- validation -------------------------------------------------------------------------------


def _schemes() -> list[str]:
    return list(settings.OAUTH2_PROVIDER.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"]))


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if url.startswith("/") and not url.startswith("//"):
        return url  # a page of officeapp itself
    parts = urlsplit(url)
    if parts.scheme not in _schemes() or not parts.netloc:
        raise RegistryError(MSG_URL.format(schemes="、".join(_schemes())), "url")
    return url


def _check_uris(uris: Iterable[str], field: str, *, required: bool) -> list[str]:
    cleaned = []
    for raw in uris:
        uri = raw.strip()
        if not uri:
            continue
        parts = urlsplit(uri)
        if parts.scheme not in _schemes() or not parts.netloc or parts.fragment or " " in uri:
            raise RegistryError(MSG_REDIRECT.format(uri=uri, schemes=" 或 ".join(_schemes())), field)
        if uri not in cleaned:
            cleaned.append(uri)
    if required and not cleaned:
        raise RegistryError(MSG_REDIRECT_REQUIRED, field)
    if len(cleaned) > MAX_URIS:
        raise RegistryError(MSG_TOO_MANY_URIS, field)
    return cleaned


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    known = settings.API_SCOPES
    cleaned = []
    for scope in scopes:
        if scope not in known:
            raise RegistryError(MSG_SCOPE.format(scope=scope), "scopes")
        if scope not in cleaned:
            cleaned.append(scope)
    return cleaned


def _check_roles(roles: Iterable[str]) -> list[str]:
    cleaned = []
    for role in roles:
        if role not in Role.values:
            raise RegistryError(MSG_ROLE.format(role=role), "visible_roles")
        if role not in cleaned:
            cleaned.append(role)
    return cleaned


def _check_name(name: str, owner_agency: Agency, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise RegistryError(MSG_NAME_REQUIRED, "name")
    taken = App.objects.filter(owner_agency=owner_agency, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise RegistryError(MSG_NAME_TAKEN.format(name=name), "name")
    return name


def _check_rate(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_RATE_LIMIT:
        raise RegistryError(MSG_RATE, "rate_limit_per_minute")
    return value


def _check_data_agencies(
    actor: Any, owner_agency: Agency, agencies: Iterable[Agency], kept: Iterable[int] = ()
) -> list[Agency]:
    """An agency administrator may let the app read their own agency's data and that of agencies below
    it; anything wider is the platform's decision (a 系统管理员's), which an edit by the agency keeps."""
    chosen = list(agencies)
    if access.is_platform_admin(actor):
        return chosen
    already = set(kept)
    for agency in chosen:
        if agency.pk not in already and not agency.path.startswith(owner_agency.path):
            raise RegistryError(MSG_DATA_AGENCIES, "data_agencies")
    return chosen


def _check_skip_consent(actor: Any, skip: bool, current: bool = False) -> bool:
    if skip and not current and not access.is_platform_admin(actor):
        raise RegistryError(MSG_SKIP_CONSENT, "skip_consent")
    return skip


def _check_departments(
    departments: Iterable[Department], owner_agency: Agency, agencies: list[Agency]
) -> list[Department]:
    allowed = {owner_agency.pk, *(a.pk for a in agencies)}
    chosen = list(departments)
    for department in chosen:
        if department.agency_id not in allowed:
            raise RegistryError(MSG_DEPARTMENT, "visible_departments")
    return chosen


# --- the verbs ------------------------------------------------------------------------------


def _audit(action: str, actor: Any, app: App, details: dict[str, Any] | None = None) -> None:
    record(
        f"integration.app.{action}",
        actor=actor,
        object_type=OBJECT_TYPE,
        object_id=app.pk,
        details=details or {},
    )
    emit(
        f"integration.app.{action}",
        object_type=OBJECT_TYPE,
        object_id=app.pk,
        payload={"app_id": app.pk, "owner_agency_id": app.owner_agency_id, **(details or {})},
    )


def _new_client(**fields: Any) -> tuple[Application, str]:
    """A confidential client with a fresh secret; the plaintext is taken before the save hashes it."""
    plaintext = generate_client_secret()
    client = Application(client_type=Application.CLIENT_CONFIDENTIAL, client_secret=plaintext, **fields)
    client.full_clean(exclude=["user"])
    client.save()
    return client, plaintext


@transaction.atomic
def register_app(
    actor: Any,
    *,
    owner_agency: Agency,
    name: str,
    url: str,
    redirect_uris: Iterable[str],
    post_logout_redirect_uris: Iterable[str] = (),
    icon: str = "",
    description: str = "",
    scopes: Iterable[str] = (),
    visible_agencies: Iterable[Agency] = (),
    visible_departments: Iterable[Department] = (),
    visible_roles: Iterable[str] = (),
    data_agencies: Iterable[Agency] = (),
    skip_consent: bool = False,
    rate_limit_per_minute: int | None = None,
) -> Registered:
    """Register an agency's system: the app and its two clients. The secrets are in the answer only."""
    name = _check_name(name, owner_agency)
    url = _check_url(url)
    redirects = _check_uris(redirect_uris, "redirect_uris", required=True)
    logouts = _check_uris(post_logout_redirect_uris, "post_logout_redirect_uris", required=False)
    granted = _check_scopes(scopes)
    roles = _check_roles(visible_roles)
    agencies = list(visible_agencies)
    departments = _check_departments(visible_departments, owner_agency, agencies)
    data = _check_data_agencies(actor, owner_agency, data_agencies)
    skip = _check_skip_consent(actor, skip_consent)
    rate = _check_rate(rate_limit_per_minute)

    sso, sso_secret = _new_client(
        name=f"{name}（登录）"[:255],
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirects),
        post_logout_redirect_uris=" ".join(logouts),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=skip,
    )
    service, service_secret = _new_client(
        name=f"{name}（接口）"[:255],
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    app = App.objects.create(
        name=name,
        icon=(icon or "").strip()[:8],
        description=(description or "").strip()[:300],
        url=url,
        owner_agency=owner_agency,
        scopes=granted,
        visible_roles=roles,
        skip_consent=skip,
        rate_limit_per_minute=rate,
        sso_client=sso,
        service_client=service,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    app.visible_agencies.set(agencies)
    app.visible_departments.set(departments)
    app.data_agencies.set(data)
    _audit("register", actor, app, {"scopes": granted})
    return Registered(
        app,
        [
            IssuedSecret("sso", sso.client_id, sso_secret),
            IssuedSecret("service", service.client_id, service_secret),
        ],
    )


_UNSET: Any = object()


@transaction.atomic
def update_app(
    actor: Any,
    app: App,
    *,
    name: str = _UNSET,
    url: str = _UNSET,
    icon: str = _UNSET,
    description: str = _UNSET,
    redirect_uris: Iterable[str] = _UNSET,
    post_logout_redirect_uris: Iterable[str] = _UNSET,
    scopes: Iterable[str] = _UNSET,
    visible_agencies: Iterable[Agency] = _UNSET,
    visible_departments: Iterable[Department] = _UNSET,
    visible_roles: Iterable[str] = _UNSET,
    data_agencies: Iterable[Agency] = _UNSET,
    skip_consent: bool = _UNSET,
    rate_limit_per_minute: int | None = _UNSET,
) -> App:
    """Change what is given; the rest stays. Application.skip_authorization follows skip_consent."""
    app = App.objects.select_for_update().get(pk=app.pk)
    changed: list[str] = []
    if name is not _UNSET:
        app.name = _check_name(name, app.owner_agency, exclude=app.pk)
        changed.append("name")
    if url is not _UNSET:
        app.url = _check_url(url)
        changed.append("url")
    if icon is not _UNSET:
        app.icon = (icon or "").strip()[:8]
        changed.append("icon")
    if description is not _UNSET:
        app.description = (description or "").strip()[:300]
        changed.append("description")
    if scopes is not _UNSET:
        app.scopes = _check_scopes(scopes)
        changed.append("scopes")
    if visible_roles is not _UNSET:
        app.visible_roles = _check_roles(visible_roles)
        changed.append("visible_roles")
    if skip_consent is not _UNSET:
        app.skip_consent = _check_skip_consent(actor, bool(skip_consent), app.skip_consent)
        changed.append("skip_consent")
    if rate_limit_per_minute is not _UNSET:
        app.rate_limit_per_minute = _check_rate(rate_limit_per_minute)
        changed.append("rate_limit_per_minute")
    agencies = list(visible_agencies) if visible_agencies is not _UNSET else list(app.visible_agencies.all())
    departments = None
    if visible_departments is not _UNSET:
        departments = _check_departments(visible_departments, app.owner_agency, agencies)
    data = None
    if data_agencies is not _UNSET:
        current = app.data_agencies.values_list("pk", flat=True)
        data = _check_data_agencies(actor, app.owner_agency, data_agencies, kept=list(current))
    sso_fields: dict[str, Any] = {}
    if redirect_uris is not _UNSET:
        sso_fields["redirect_uris"] = " ".join(_check_uris(redirect_uris, "redirect_uris", required=True))
        changed.append("redirect_uris")
    if post_logout_redirect_uris is not _UNSET:
        logouts = _check_uris(post_logout_redirect_uris, "post_logout_redirect_uris", required=False)
        sso_fields["post_logout_redirect_uris"] = " ".join(logouts)
        changed.append("post_logout_redirect_uris")

    app.save()
    if visible_agencies is not _UNSET:
        app.visible_agencies.set(agencies)
        changed.append("visible_agencies")
    if departments is not None:
        app.visible_departments.set(departments)
        changed.append("visible_departments")
    if data is not None:
        app.data_agencies.set(data)
        changed.append("data_agencies")
    if app.sso_client_id:
        sso_fields["skip_authorization"] = app.skip_consent
        sso_fields["name"] = f"{app.name}（登录）"[:255]
        Application.objects.filter(pk=app.sso_client_id).update(**sso_fields)
    if app.service_client_id:
        Application.objects.filter(pk=app.service_client_id).update(name=f"{app.name}（接口）"[:255])
    _audit("update", actor, app, {"fields": changed})
    return app


def _revoke_tokens(clients: list[int]) -> int:
    """End every outstanding token and authorization code of these clients at once."""
    now = timezone.now()
    RefreshToken.objects.filter(application_id__in=clients, revoked__isnull=True).update(revoked=now)
    Grant.objects.filter(application_id__in=clients).delete()
    deleted, _ = AccessToken.objects.filter(application_id__in=clients).delete()
    return deleted


@transaction.atomic
def rotate_secret(actor: Any, app: App, which: str = "service") -> IssuedSecret:
    """A new secret for one client, shown once; the old one stops working at once, and so do the
    tokens obtained with it (a secret is rotated because it may have leaked)."""
    if which not in SECRET_LABELS:
        raise RegistryError(MSG_WHICH)
    client_id = app.sso_client_id if which == "sso" else app.service_client_id
    if client_id is None:
        raise RegistryError(MSG_NO_CLIENT)
    client = Application.objects.select_for_update().get(pk=client_id)
    plaintext = generate_client_secret()
    client.client_secret = plaintext
    client.save(update_fields=["client_secret", "updated"])
    revoked = _revoke_tokens([client.pk])
    _audit("rotate_secret", actor, app, {"client": which, "tokens_revoked": revoked})
    return IssuedSecret(which, client.client_id, plaintext)


def _clients(app: App) -> list[int]:
    return [pk for pk in (app.sso_client_id, app.service_client_id) if pk is not None]


@transaction.atomic
def suspend_app(actor: Any, app: App) -> App:
    """Suspended at once: the launcher hides it, its outstanding tokens are revoked, new API calls are
    refused (officeapp.integration.rest)."""
    app = App.objects.select_for_update().get(pk=app.pk)
    if app.status == AppStatus.SUSPENDED:
        raise RegistryError(MSG_ALREADY_SUSPENDED)
    app.status = AppStatus.SUSPENDED
    app.save(update_fields=["status"])
    revoked = _revoke_tokens(_clients(app))
    _audit("suspend", actor, app, {"tokens_revoked": revoked})
    return app


@transaction.atomic
def resume_app(actor: Any, app: App) -> App:
    app = App.objects.select_for_update().get(pk=app.pk)
    if app.status == AppStatus.ACTIVE:
        raise RegistryError(MSG_ALREADY_ACTIVE)
    app.status = AppStatus.ACTIVE
    app.save(update_fields=["status"])
    _audit("resume", actor, app)
    return app
