"""A complete OIDC sign-in of an agency system against officeapp, over real HTTP: officeapp on
pytest-django's live server, the sample app (tests/integration/sample_app.py, authlib) on a port of
its own, and a browser-like requests.Session going between them through our sign-in and consent
pages. Then what the app does with its tokens: the API, refresh, revocation, and logout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.sample_app import SampleApp, SampleAppServer, submit, verify_id_token

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sample-app-client-secret-0123456789"  # noqa: S105 - a test client's secret


@pytest.fixture
def registered(cast: Any, make_app: Any) -> Any:
    return make_app(cast.gov_office, name="行政审批系统", scopes=["directory.read", "documents.read"])


@pytest.fixture
def sample(live_server: Any, registered: Any) -> Iterator[SampleApp]:
    client = registered.sso_client
    app = SampleApp(
        discovery_url=f"{live_server.url}/.well-known/openid-configuration",
        client_id=client.client_id,
        client_secret=SECRET,
        scope="openid profile email directory.read",
    )
    with SampleAppServer(app) as running:
        # The secret is stored hashed: set the plaintext the app holds, and the live callback.
        client.client_secret = SECRET
        client.redirect_uris = running.redirect_uri
        client.post_logout_redirect_uris = running.post_logout_redirect_uri
        client.save()
        yield running


def _sign_in_and_consent(browser: requests.Session, sample: SampleApp, password: str, username: str) -> Any:
    sign_in_page = browser.get(f"{sample.base_url}/login", timeout=20)
    assert urlsplit(sign_in_page.url).path == "/accounts/sign-in/"
    # The authorization request waits in `next`, through our own sign-in form.
    next_url = parse_qs(urlsplit(sign_in_page.url).query)["next"][0]
    assert next_url.startswith("/o/authorize/?")
    consent = submit(browser, sign_in_page, {"username": username, "password": password})
    return consent


def test_an_agency_system_signs_a_user_in_with_authlib_and_uses_refreshes_revokes_and_logs_out(
    live_server: Any, sample: SampleApp, registered: Any, cast: Any, cast_password: str
) -> None:
    browser = requests.Session()

    # when: the user opens the app, signs in on officeapp and consents
    consent = _sign_in_and_consent(browser, sample, cast_password, cast.drafter.username)
    assert urlsplit(consent.url).path == "/o/authorize/"
    assert "行政审批系统" in consent.text and cast.gov_office.name in consent.text
    for label in ("确认您的身份", "姓名、单位、部门", "电子邮箱", "读取通讯录"):
        assert label in consent.text
    signed_in = submit(browser, consent, form_id="authorizationForm", button="allow")

    # then: the app verified the ID token (signature against the JWKS, iss, aud, nonce, exp)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.url.startswith(sample.redirect_uri)
    body = signed_in.json()
    assert body["signed_in"] == str(cast.drafter.pk)
    claims = body["claims"]
    issuer = f"{live_server.url}/o"
    assert claims["iss"] == issuer and claims["aud"] == sample.client_id
    assert claims["name"] == "林小梅" and claims["preferred_username"] == "drafter"
    assert claims["agency"] == {"id": cast.gov_office.pk, "name": cast.gov_office.name}
    assert claims["department"] == {"id": cast.general_dept.pk, "name": "综合处"}
    assert claims["email"] == "drafter@gd.example"
    assert "phone_number" not in claims  # the phone scope was not asked for
    # both discovery documents name the same issuer the ID token carries
    for path in ("/.well-known/openid-configuration", "/o/.well-known/openid-configuration"):
        doc = requests.get(f"{live_server.url}{path}", timeout=10).json()
        assert doc["issuer"] == issuer
        assert doc["authorization_endpoint"] == f"{issuer}/authorize/"
        assert doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
        assert doc["end_session_endpoint"] == f"{issuer}/logout/"
        assert doc["code_challenge_methods_supported"] == ["S256"]
        assert {"agency", "department", "phone_number"} <= set(doc["claims_supported"])

    token = sample.last_sign_in["token"]
    assert set(token["scope"].split()) == {"openid", "profile", "email", "directory.read"}

    def me(access_token: str) -> requests.Response:
        return requests.get(
            f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )

    # the access token calls the API as the user, through the app
    answer = me(token["access_token"])
    assert answer.status_code == 200
    assert answer.json()["user"] == {"id": cast.drafter.pk, "username": "drafter"}
    assert answer.json()["app"]["id"] == registered.pk
    userinfo = requests.get(
        sample.provider.userinfo_endpoint,  # type: ignore[union-attr]
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo["sub"] == str(cast.drafter.pk) and userinfo["department"]["name"] == "综合处"

    # refresh: a new access token works, and the refreshed ID token still verifies
    oauth = sample.oauth(token=token)
    refreshed = oauth.refresh_token(sample.provider.token_endpoint, refresh_token=token["refresh_token"])  # type: ignore[union-attr]
    assert refreshed["access_token"] != token["access_token"]
    assert me(refreshed["access_token"]).status_code == 200
    verify_id_token(refreshed["id_token"], provider=sample.provider, client_id=sample.client_id, nonce=None)  # type: ignore[arg-type]

    # revoke: the API refuses the token on the very next call
    revoked = oauth.revoke_token(
        sample.provider.revocation_endpoint,  # type: ignore[union-attr]
        token=refreshed["access_token"],
        token_type_hint="access_token",
    )
    assert revoked.status_code == 200
    assert me(refreshed["access_token"]).status_code == 401

    # RP-initiated logout: confirm on officeapp, back to the app's registered page with its state
    confirm = browser.get(
        sample.provider.end_session_endpoint,  # type: ignore[union-attr]
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": sample.post_logout_redirect_uri,
            "state": "bye-42",
        },
        timeout=20,
    )
    assert "确认退出" in confirm.text and "行政审批系统" in confirm.text
    back = submit(browser, confirm, form_id="logoutForm", button="allow")
    assert back.url.startswith(sample.post_logout_redirect_uri)
    assert back.json() == {"signed_out": True, "state": "bye-42"}
    # audited like our own sign-out, naming the app that asked
    from officeapp.audit.models import AuditEvent

    signed_out = AuditEvent.objects.filter(action="accounts.sign_out").latest("id")
    assert signed_out.details["via"] == "oidc_logout"
    assert signed_out.details["app"] == registered.pk
    # officeapp's own session is over: the next sign-in starts at the sign-in page again
    again = browser.get(f"{sample.base_url}/login", timeout=20)
    assert urlsplit(again.url).path == "/accounts/sign-in/"


def test_a_logout_to_an_unregistered_address_is_refused_and_the_user_stays_signed_in(
    live_server: Any, sample: SampleApp, cast: Any, cast_password: str
) -> None:
    browser = requests.Session()
    consent = _sign_in_and_consent(browser, sample, cast_password, cast.drafter.username)
    submit(browser, consent, form_id="authorizationForm", button="allow")
    id_token = sample.last_sign_in["token"]["id_token"]

    refused = browser.get(
        f"{live_server.url}/o/logout/",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere"},
        timeout=20,
    )

    assert refused.status_code == 400
    assert "无法处理退出请求" in refused.text
    assert urlsplit(browser.get(f"{live_server.url}/workbench/", timeout=20).url).path != "/accounts/sign-in/"
