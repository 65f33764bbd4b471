"""officeapp as the OpenID Connect provider of registered apps: django-oauth-toolkit's validator with
our rules (settings.OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]).

- Only registered, active apps: a suspended app (App.status) cannot start a sign-in (a Chinese page
  says so, nothing is sent back to the app) nor use the token endpoint; a client that is no App at
  all is treated the same as an unknown one.
- Only active users: a disabled user cannot sign in (the sign-in page refuses), and a code or
  refresh token issued before the user was disabled is refused at the token endpoint.
- Scopes: a sign-in client may be issued the OIDC scopes and the API scopes its App grants; a
  service client (client credentials) only the API scopes its App grants. Anything else asked for
  is dropped, not refused (OIDC Core 3.1.2.1: unknown scope values SHOULD be ignored), so the
  token simply lacks it. No scope asked: `openid` for sign-in, every granted API scope for a
  service client.
- Claims by scope: openid → sub (the user's id); profile → name, preferred_username, agency and
  department ({"id", "name"}); email → email; phone → phone_number, only when the directory
  policy (通讯录字段策略, field "mobile") would show the number to someone of the app's owner
  agency, i.e. by default only to apps of the user's own agency.
- Consent: App.skip_consent is mirrored onto the sign-in client's `skip_authorization` (DOT's own
  switch, read by its authorize view); otherwise the consent page is shown once and not again
  while the app holds a live token for the same scopes (REQUEST_APPROVAL_PROMPT "auto").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import OAuthLibCore, _add_iss_to_redirect
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import RPInitiatedLogoutView
from oauthlib.oauth2.rfc6749 import errors

from officeapp.integration.models import App

OIDC_SCOPES: tuple[str, ...] = ("openid", "profile", "email", "phone")

MSG_APP_SUSPENDED = "该应用已停用，暂时无法通过统一身份认证登录。如有疑问，请联系应用所属单位。"
MSG_UNKNOWN_CLIENT = "该应用未在平台登记，或登录请求中的应用标识（client_id）有误。"
MSG_REDIRECT_NOT_REGISTERED = "登录请求中的回调地址（redirect_uri）不在该应用的登记信息中，已拒绝。"


class SignInRefused(errors.FatalClientError):
    """A sign-in request the user must be told about here, never sent back to the app: the app
    may be an impostor (wrong redirect) or must not learn anything (suspended)."""

    error = "invalid_request"
    status_code = 400


class AppSuspended(SignInRefused):
    error = "unauthorized_client"
    description = MSG_APP_SUSPENDED


class UnknownClient(SignInRefused):
    description = MSG_UNKNOWN_CLIENT


class RedirectUriNotRegistered(SignInRefused):
    description = MSG_REDIRECT_NOT_REGISTERED


def app_of_client(client: Any) -> App | None:
    """The registered App a DOT Application belongs to (as its sign-in or its service client)."""
    if client is None or getattr(client, "pk", None) is None:
        return None
    return (
        App.objects.select_related("owner_agency")
        .filter(Q(sso_client_id=client.pk) | Q(service_client_id=client.pk))
        .first()
    )


def allowed_scopes(app: App, client: Any) -> list[str]:
    """What a token of this client may carry: API scopes the App grants, plus the OIDC scopes for
    its sign-in client. In settings order, so consent pages and tokens list them alike."""
    from django.conf import settings

    granted = set(app.scopes)
    if client is not None and client.pk == app.sso_client_id:
        granted |= set(OIDC_SCOPES)
    return [s for s in settings.OAUTH2_PROVIDER["SCOPES"] if s in granted]  # type: ignore[attr-defined]


def phone_visible_to_app(user: Any, app: App | None) -> bool:
    """Whether the app's owner agency may see the user's mobile number under the directory policy
    (as a colleague in that agency with no department of the user's own would)."""
    from officeapp.org.directory import field_policies, may_see

    if app is None:
        return False
    return may_see(
        field_policies()["mobile"],
        viewer_agency=app.owner_agency_id,
        viewer_department=None,
        agency_id=user.agency_id,
        department_id=user.department_id,
        is_self=False,
    )


def _unit(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


class OfficeOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "agency": "profile",
        "department": "profile",
    }

    # --- The app ------------------------------------------------------------------------------

    def _app(self, request: Any) -> App | None:
        """The App of request.client, looked up once per request."""
        client = getattr(request, "client", None)
        key = getattr(client, "pk", None)
        cached = getattr(request, "_officeapp_app", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        app = app_of_client(client)
        request._officeapp_app = (key, app)
        return app

    def _client_usable(self, request: Any) -> bool:
        app = self._app(request)
        return app is not None and app.is_active

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        if not super().validate_client_id(client_id, request, *args, **kwargs):
            raise UnknownClient(request=request)
        app = self._app(request)
        if app is None:
            raise UnknownClient(request=request)
        if not app.is_active:
            raise AppSuspended(request=request)
        return True

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            raise RedirectUriNotRegistered(request=request)
        return True

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        # A suspended app's client fails authentication: invalid_client (401) at the token,
        # revocation and introspection endpoints.
        return super().authenticate_client(request, *args, **kwargs) and self._client_usable(request)

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return super().authenticate_client_id(client_id, request, *args, **kwargs) and self._client_usable(
            request
        )

    # --- Scopes -------------------------------------------------------------------------------

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        app = self._app(request)
        if app is None:
            return False
        allowed = allowed_scopes(app, client)
        # Drop what the app was not granted (the token then simply lacks it); keep the asked order.
        kept = [s for s in dict.fromkeys(scopes) if s in allowed]
        request.scopes = kept
        scopes[:] = kept
        return True

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        if request.client is None:
            self._load_application(client_id, request)
        app = self._app(request)
        if app is None:
            return []
        if request.client.pk == app.sso_client_id:
            return ["openid"]
        return [s for s in allowed_scopes(app, request.client) if s not in OIDC_SCOPES]

    # --- The user -----------------------------------------------------------------------------

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return super().validate_code(client_id, code, client, request, *args, **kwargs) and bool(
            request.user.is_active
        )

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return super().validate_refresh_token(refresh_token, client, request, *args, **kwargs) and bool(
            request.user.is_active
        )

    # --- Claims -------------------------------------------------------------------------------

    def get_additional_claims(self) -> dict[str, Callable[[Any], Any]]:  # type: ignore[override]
        # Request-agnostic (no `request` parameter): DOT then lists these in discovery's
        # claims_supported, and calls each with the request when a token or userinfo needs it.
        return {
            "name": lambda r: r.user.real_name,
            "preferred_username": lambda r: r.user.username,
            "agency": lambda r: _unit(r.user.agency),
            "department": lambda r: _unit(r.user.department),
            "email": lambda r: r.user.email or None,
            "phone_number": lambda r: (
                (r.user.mobile or None) if phone_visible_to_app(r.user, self._app(r)) else None
            ),
        }

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        # A claim with nothing to say (no email, a number the policy hides) is left out, not null.
        claims = super().get_oidc_claims(token, token_handler, request)
        return {k: v for k, v in claims.items() if v is not None}


class OfficeOAuthLibCore(OAuthLibCore):
    """One issuer everywhere: the RFC 9207 `iss` of an authorization response is DOT's RFC 8414
    issuer, which without a mounted /.well-known/oauth-authorization-server falls back to the bare
    origin; the ID token and both discovery documents say origin + "/o". A client checking `iss`
    (as it should, against mix-up attacks) would refuse every sign-in, so it gets the OIDC issuer."""

    def create_authorization_response(
        self, request: Any, scopes: Any, credentials: Any, allow: Any
    ) -> tuple[Any, Any, Any, Any]:
        uri, headers, body, status = super().create_authorization_response(
            request, scopes, credentials, allow
        )
        if uri is not None and oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            uri = _add_iss_to_redirect(uri, oauth2_settings.oidc_issuer(request))
            headers["Location"] = uri
        return uri, headers, body, status


@receiver(post_save, sender=App, dispatch_uid="integration.oidc.skip_consent")
def _consent_follows_the_registration(sender: type[App], instance: App, **kwargs: Any) -> None:
    """DOT's authorize view skips the consent page for a client with skip_authorization; keep it equal
    to the App's 免授权确认 however the App is saved (registry pages, admin, fixtures)."""
    if instance.sso_client_id is None:
        return
    get_application_model().objects.filter(pk=instance.sso_client_id).exclude(
        skip_authorization=instance.skip_consent
    ).update(skip_authorization=instance.skip_consent)


@receiver(pre_save, sender=get_application_model(), dispatch_uid="integration.oidc.skip_consent_kept")
def _consent_kept_when_the_client_is_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """…and the other way round: saving the sign-in client (a rotated secret, new redirect URIs) from
    an instance loaded before the App changed must not undo the App's setting."""
    if instance.pk is None:
        return
    skip = App.objects.filter(sso_client_id=instance.pk).values_list("skip_consent", flat=True).first()
    if skip is not None:
        instance.skip_authorization = skip


class AuditedLogoutView(RPInitiatedLogoutView):
    """RP-initiated logout (/o/logout/) as django-oauth-toolkit does it — the user's tokens at the
    apps revoked, the session ended, back to the app's registered page — and audited like our own
    sign-out, naming the app that asked."""

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: Any = None,
        state: Any = None,
        token_user: Any = None,
    ) -> Any:
        from officeapp.audit.services import record

        user = token_user or self.request.user
        if getattr(user, "is_authenticated", False):
            app = app_of_client(application) if application is not None else None
            record(
                "accounts.sign_out",
                actor=user,
                obj=user,
                details={"via": "oidc_logout", **({"app": app.pk} if app is not None else {})},
            )
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)
