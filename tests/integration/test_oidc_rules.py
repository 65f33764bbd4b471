"""The provider's rules, one at a time, through the real endpoints on Django's test client: consent,
suspended apps, redirect URIs, PKCE, scopes, disabled users, claims, and our sign-in page's own
steps (TOTP, forced password change) on the way to /o/authorize/."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken

from officeapp.integration.models import AppStatus
from officeapp.org.models import DirectoryFieldPolicy, DirectoryVisibility
from tests.accounts.support import code_for_key

pytestmark = pytest.mark.django_db

SECRET = "rules-client-secret-0123456789"  # noqa: S105 - a test client's secret
REDIRECT = "https://app.example.test/callback"
VERIFIER = "a-code-verifier-of-the-app-that-is-long-enough-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


def _with_secret(app: Any) -> Any:
    for client in (app.sso_client, app.service_client):
        client.client_secret = SECRET
        client.save()
    return app


def _authorize_url(app: Any, scope: str = "openid", **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app.sso_client.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **params,
    }
    return f"/o/authorize/?{urlencode({k: v for k, v in query.items() if v is not None})}"


def _query(response: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _consent(client: Client, page: Any) -> Any:
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    return client.post("/o/authorize/", {**data, "allow": "on"})


def _exchange(client: Client, app: Any, code: str) -> Any:
    return client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            "client_id": app.sso_client.client_id,
            "client_secret": SECRET,
        },
    )


def _service_token(client: Client, app: Any, scope: str | None) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_id": app.service_client.client_id,
        "client_secret": SECRET,
    }
    if scope is not None:
        data["scope"] = scope
    return client.post("/o/token/", data)


# --- Consent ------------------------------------------------------------------------------------


def test_a_skip_consent_app_signs_the_user_in_without_a_consent_page(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = make_app(cast.gov_office, skip_consent=True)

    response = sign_in(cast.drafter).get(_authorize_url(app))

    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT) and "code" in _query(response)


def test_consent_is_asked_once_then_remembered_for_the_same_scopes(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = _with_secret(make_app(cast.gov_office, scopes=["directory.read"]))
    client = sign_in(cast.drafter)

    first = client.get(_authorize_url(app, "openid profile directory.read"))
    assert first.status_code == 200
    page = first.content.decode()
    assert "授权确认" in page and "行政审批系统" in page and cast.gov_office.name in page
    assert "姓名、单位、部门" in page and "读取通讯录" in page
    granted = _consent(client, first)
    assert _exchange(client, app, _query(granted)["code"]).status_code == 200

    again = client.get(_authorize_url(app, "openid profile directory.read"))

    assert again.status_code == 302 and "code" in _query(again)
    # more than was consented to: asked again
    assert client.get(_authorize_url(app, "openid profile email directory.read")).status_code == 200


def test_refusing_consent_sends_access_denied_back_to_the_app(cast: Any, make_app: Any, sign_in: Any) -> None:
    app = make_app(cast.gov_office)
    client = sign_in(cast.drafter)
    page = client.get(_authorize_url(app))
    data = {name: value for name, value in page.context["form"].initial.items() if value is not None}

    refused = client.post("/o/authorize/", data)

    assert _query(refused)["error"] == "access_denied"


# --- The app and its registration ----------------------------------------------------------------


def test_a_suspended_app_cannot_start_a_sign_in_and_the_user_is_told_so_in_chinese(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = make_app(cast.gov_office, status=AppStatus.SUSPENDED, skip_consent=True)

    response = sign_in(cast.drafter).get(_authorize_url(app))

    assert response.status_code == 400
    assert "Location" not in response
    assert "该应用已停用" in response.content.decode() and "无法登录应用" in response.content.decode()


def test_a_suspended_app_cannot_use_the_token_endpoint(cast: Any, make_app: Any, sign_in: Any) -> None:
    app = _with_secret(make_app(cast.gov_office, scopes=["directory.read"], skip_consent=True))
    client = sign_in(cast.drafter)
    code = _query(client.get(_authorize_url(app)))["code"]

    app.status = AppStatus.SUSPENDED
    app.save()

    exchanged = _exchange(client, app, code)
    service = _service_token(client, app, "directory.read")
    assert exchanged.status_code == 401 and exchanged.json()["error"] == "invalid_client"
    assert service.status_code == 401
    assert not AccessToken.objects.exists()


def test_a_redirect_uri_not_registered_is_refused_on_our_own_page(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = make_app(cast.gov_office, skip_consent=True)

    response = sign_in(cast.drafter).get(_authorize_url(app, redirect_uri="https://evil.example.test/steal"))

    assert response.status_code == 400
    assert "Location" not in response
    assert "回调地址" in response.content.decode()


def test_pkce_is_required_and_only_s256_is_accepted(cast: Any, make_app: Any, sign_in: Any) -> None:
    app = make_app(cast.gov_office, skip_consent=True)
    client = sign_in(cast.drafter)

    plain = client.get(_authorize_url(app, code_challenge=VERIFIER, code_challenge_method="plain"))
    missing = client.get(_authorize_url(app, code_challenge=None, code_challenge_method=None))

    for response in (plain, missing):
        assert response.status_code == 302
        assert _query(response)["error"] == "invalid_request" and "code" not in _query(response)


# --- Scopes ---------------------------------------------------------------------------------------


def test_a_scope_the_app_was_not_granted_is_neither_offered_nor_in_the_token(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = _with_secret(make_app(cast.gov_office, scopes=["directory.read"]))
    client = sign_in(cast.drafter)

    page = client.get(_authorize_url(app, "openid directory.read documents.read todos.write"))
    assert "读取公文及附件" not in page.content.decode() and "读取通讯录" in page.content.decode()
    token = _exchange(client, app, _query(_consent(client, page))["code"]).json()

    assert token["scope"].split() == ["openid", "directory.read"]


def test_client_credentials_get_only_the_api_scopes_the_app_grants(cast: Any, make_app: Any) -> None:
    app = _with_secret(make_app(cast.gov_office, scopes=["directory.read", "documents.read"]))
    client = Client()

    asked = _service_token(client, app, "openid profile directory.read meetings.read").json()
    default = _service_token(client, app, None).json()

    assert asked["scope"] == "directory.read" and "id_token" not in asked
    assert sorted(default["scope"].split()) == ["directory.read", "documents.read"]


# --- The user -------------------------------------------------------------------------------------


def test_a_disabled_user_cannot_sign_in_on_the_way_to_an_app(
    cast: Any, make_app: Any, cast_password: str
) -> None:
    app = make_app(cast.gov_office, skip_consent=True)
    cast.outsider.is_active = False
    cast.outsider.save()
    client = Client()
    to_sign_in = client.get(_authorize_url(app))
    assert urlsplit(to_sign_in["Location"]).path == "/accounts/sign-in/"
    next_url = parse_qs(urlsplit(to_sign_in["Location"]).query)["next"][0]

    response = client.post(
        "/accounts/sign-in/", {"username": "outsider", "password": cast_password, "next": next_url}
    )

    assert response.status_code == 200  # the form again, with its error; no redirect onwards
    assert client.get(_authorize_url(app)).status_code == 302
    assert urlsplit(client.get(_authorize_url(app))["Location"]).path == "/accounts/sign-in/"


def test_a_code_issued_before_the_user_was_disabled_is_refused(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = _with_secret(make_app(cast.gov_office, skip_consent=True))
    client = sign_in(cast.drafter)
    code = _query(client.get(_authorize_url(app)))["code"]

    cast.drafter.is_active = False
    cast.drafter.save()

    response = _exchange(Client(), app, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_an_administrator_reaches_the_app_through_the_sign_in_page_and_totp_with_next_kept(
    cast: Any, make_app: Any, cast_password: str
) -> None:
    app = make_app(cast.gov_office, skip_consent=True)
    device = TOTPDevice.objects.create(user=cast.system_admin, name="手机", confirmed=True)
    client = Client()
    authorize = _authorize_url(app)
    next_url = parse_qs(urlsplit(client.get(authorize)["Location"]).query)["next"][0]
    assert next_url == authorize

    signed_in = client.post(
        "/accounts/sign-in/", {"username": "system_admin", "password": cast_password, "next": next_url}
    )
    assert signed_in["Location"] == authorize
    to_totp = client.get(signed_in["Location"])
    assert urlsplit(to_totp["Location"]).path == "/accounts/two-factor/verify/"
    verified = client.post(
        to_totp["Location"],
        {"token": code_for_key(device.key), "next": parse_qs(urlsplit(to_totp["Location"]).query)["next"][0]},
    )
    assert verified["Location"] == authorize

    done = client.get(verified["Location"])
    assert done["Location"].startswith(REDIRECT) and "code" in _query(done)


def test_a_user_who_must_change_the_password_does_so_before_reaching_the_app(
    cast: Any, make_app: Any, sign_in: Any
) -> None:
    app = make_app(cast.gov_office, skip_consent=True)
    cast.drafter.must_change_password = True
    cast.drafter.save()

    response = sign_in(cast.drafter).get(_authorize_url(app))

    assert urlsplit(response["Location"]).path == "/accounts/password/"
    assert parse_qs(urlsplit(response["Location"]).query)["next"][0] == _authorize_url(app)


# --- Claims ---------------------------------------------------------------------------------------


def _userinfo(client: Client, token: str) -> dict[str, Any]:
    response = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()


def test_claims_follow_the_scopes(cast: Any, make_app: Any, token_for: Any) -> None:
    app = make_app(cast.gov_office)
    client = Client()
    user = cast.drafter

    only_openid = _userinfo(client, token_for(app, user=user, scopes="openid"))
    everything = _userinfo(client, token_for(app, user=user, scopes="openid profile email phone"))

    assert only_openid == {"sub": str(user.pk)}
    assert everything == {
        "sub": str(user.pk),
        "name": "林小梅",
        "preferred_username": "drafter",
        "agency": {"id": cast.gov_office.pk, "name": cast.gov_office.name},
        "department": {"id": cast.general_dept.pk, "name": "综合处"},
        "email": "drafter@gd.example",
        "phone_number": "13800000001",
    }


def test_the_phone_number_goes_only_where_the_directory_policy_lets_the_apps_agency_see_it(
    cast: Any, make_app: Any, token_for: Any
) -> None:
    other_agency_app = make_app(cast.finance, name="财务系统")
    client = Client()

    def phone() -> str | None:
        claims = _userinfo(client, token_for(other_agency_app, user=cast.drafter, scopes="openid phone"))
        return claims.get("phone_number")

    assert phone() is None  # default policy: 本机关可见
    DirectoryFieldPolicy.objects.create(field="mobile", visibility=DirectoryVisibility.EVERYONE)
    assert phone() == "13800000001"
