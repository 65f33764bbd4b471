"""officeapp as the relying party of an outside OpenID Connect provider, end to end: the provider is
officeapp's own (/o/, on pytest-django's live server, reached as http://localhost:PORT), the relying
party is the same server reached as http://127.0.0.1:PORT — another host, so another cookie jar and
another session: being signed in at the provider does not sign anyone in at the relying party; only
the code flow does. A browser-like requests.Session goes between them; the network guard lets it
(and the relying party's own calls to the token, userinfo and JWKS endpoints) reach loopback only."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from officeapp.accounts import identity
from officeapp.accounts.oidc_backend import OfficeOidcBackend
from officeapp.audit.models import AuditEvent, Outcome
from officeapp.org.models import User
from tests.accounts.support import SIGN_IN_URL
from tests.integration.conftest import _make_app
from tests.integration.sample_app import submit

SECRET = "relying-party-client-secret-0123456789"  # noqa: S105 - a test client's secret


def use_oidc(settings: Any, provider_url: str, **options: Any) -> None:
    """Configure the relying party as settings_from_env would from OIDC_RP_* variables."""
    for name, value in identity.oidc_settings(
        client_id=options.pop("client_id", "unused"),
        client_secret=SECRET,
        discovery_url=f"{provider_url}/o/.well-known/openid-configuration",
        timeout_seconds=10,
        **options,
    ).items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = identity.authentication_backends(
        ldap=False, oidc=True, ldap_only=False, oidc_only=False
    )
    identity._discovered.clear()


@pytest.fixture
def relying_party(live_server: Any, cast: Any, settings: Any) -> str:
    """The provider's registration of the relying party (skip_consent: the province's own system),
    the relying party's settings pointing at it; returns the relying party's base URL."""
    port = urlsplit(live_server.url).port
    rp_url = f"http://127.0.0.1:{port}"
    app = _make_app(cast.gov_office, name="统一身份认证", skip_consent=True)
    client = app.sso_client
    client.client_secret = SECRET  # stored hashed; the relying party holds the plaintext
    client.redirect_uris = f"{rp_url}/accounts/oidc/callback/"
    client.save()
    use_oidc(settings, live_server.url, client_id=client.client_id)
    return rp_url


def sign_in_through_provider(browser: requests.Session, rp_url: str, username: str, password: str) -> Any:
    start = browser.get(f"{rp_url}/accounts/oidc/authenticate/", timeout=20)
    # At the provider's sign-in page, the authorization request waiting in `next`.
    assert urlsplit(start.url).netloc.startswith("localhost:")
    assert urlsplit(start.url).path == SIGN_IN_URL
    assert parse_qs(urlsplit(start.url).query)["next"][0].startswith("/o/authorize/?")
    return submit(browser, start, {"username": username, "password": password})


def rp_user(browser: requests.Session, rp_url: str) -> Any:
    """Who the relying party's session is, read from the page the session reaches."""
    return browser.get(f"{rp_url}{reverse('workbench:home')}", timeout=20)


@pytest.mark.django_db(transaction=True)
def test_a_user_known_to_both_signs_in_through_the_provider(relying_party, cast, cast_password):
    browser = requests.Session()
    before = User.objects.filter(pk=cast.drafter.pk).values().get()
    landed = sign_in_through_provider(browser, relying_party, "drafter", cast_password)
    assert urlsplit(landed.url).netloc == urlsplit(relying_party).netloc
    assert urlsplit(landed.url).path == reverse("workbench:home")
    assert landed.status_code == 200
    assert cast.drafter.real_name in landed.text
    signed_in = AuditEvent.objects.get(action="accounts.sign_in", details__source="oidc")
    assert signed_in.actor_id == cast.drafter.pk
    mapped = AuditEvent.objects.get(action="accounts.identity.oidc", outcome=Outcome.SUCCESS)
    assert mapped.details["claim"] == "preferred_username"
    # Nothing of the user was written from the provider's claims.
    after = User.objects.filter(pk=cast.drafter.pk).values().get()
    assert {k: v for k, v in after.items() if k != "last_login"} == {
        k: v for k, v in before.items() if k != "last_login"
    }


@pytest.mark.django_db(transaction=True)
def test_an_account_linked_to_no_user_is_refused_with_the_message_and_nobody_is_created(
    relying_party, cast, cast_password, settings
):
    # Matched by 工号 here, and no user holds the provider's username as a 工号.
    settings.OFFICEAPP_OIDC_MATCH = ("preferred_username", "employee_no")
    count = User.objects.count()
    browser = requests.Session()
    refused = sign_in_through_provider(browser, relying_party, "outsider", cast_password)
    assert urlsplit(refused.url).netloc == urlsplit(relying_party).netloc
    assert urlsplit(refused.url).path == SIGN_IN_URL
    assert "统一身份认证账号未关联本系统用户，请联系系统管理员。" in refused.text
    assert User.objects.count() == count
    # Still nobody at the relying party.
    assert urlsplit(rp_user(browser, relying_party).url).path == SIGN_IN_URL
    denied = AuditEvent.objects.get(action="accounts.identity.oidc", outcome=Outcome.DENIED)
    assert denied.details["reason"] == "unlinked"
    assert denied.object_id == "outsider"


@pytest.mark.django_db(transaction=True)
def test_the_sign_in_page_offers_the_button_with_its_configured_label(relying_party, settings):
    settings.OFFICEAPP_OIDC_SIGN_IN_LABEL = "广东省统一身份认证"
    page = requests.get(f"{relying_party}{SIGN_IN_URL}", timeout=20)
    assert "广东省统一身份认证" in page.text
    assert 'href="/accounts/oidc/authenticate/"' in page.text


def test_without_a_provider_there_is_no_button_and_the_routes_answer_404(client, db):
    assert "统一身份认证登录" not in client.get(SIGN_IN_URL).content.decode()
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_a_provider_that_is_down_is_told_and_local_passwords_still_work(cast, settings, cast_password):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    use_oidc(settings, dead)
    client = Client()
    response = client.get("/accounts/oidc/authenticate/", follow=True)
    assert response.redirect_chain[-1][0] == SIGN_IN_URL
    assert "统一身份认证服务暂时不可用，请稍后再试。" in response.content.decode()
    assert client.post(SIGN_IN_URL, {"username": "drafter", "password": cast_password}).status_code == 302
    assert client.session["_auth_user_id"] == str(cast.drafter.pk)


class _Claims:
    """The provider's answers, for the steps the live tests cannot reach (a disabled user or an
    administrator signing in at the provider would be stopped there first)."""

    def __init__(self, monkeypatch: Any, claims: dict[str, Any]) -> None:
        monkeypatch.setattr(
            OfficeOidcBackend, "get_token", lambda self, payload: {"id_token": "t", "access_token": "a"}
        )
        monkeypatch.setattr(
            OfficeOidcBackend,
            "verify_token",
            lambda self, token, **kw: {"sub": "1", "nonce": kw.get("nonce")},
        )
        monkeypatch.setattr(OfficeOidcBackend, "get_userinfo", lambda self, access, id_token, payload: claims)


def _callback(client: Client) -> Any:
    session = client.session
    session["oidc_states"] = {"st": {"nonce": "n", "code_verifier": "v", "added_on": 0}}
    session.save()
    return client.get("/accounts/oidc/callback/?code=c&state=st")


def test_a_disabled_user_is_refused_after_the_provider_said_yes(cast, settings, monkeypatch):
    use_oidc(settings, "http://127.0.0.1:9")
    settings.OIDC_OP_TOKEN_ENDPOINT = settings.OIDC_OP_USER_ENDPOINT = "http://127.0.0.1:9/unused"
    settings.OIDC_OP_JWKS_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:9/unused"
    User.objects.filter(pk=cast.clerk.pk).update(is_active=False)
    _Claims(monkeypatch, {"preferred_username": "clerk"})
    client = Client()
    response = _callback(client)
    assert response.status_code == 302 and response["Location"] == SIGN_IN_URL
    assert "_auth_user_id" not in client.session
    assert "账号已停用" in client.get(SIGN_IN_URL).content.decode()


def test_an_administrator_still_needs_the_totp_code_after_an_outside_sign_in(cast, settings, monkeypatch):
    use_oidc(settings, "http://127.0.0.1:9")
    settings.OIDC_OP_TOKEN_ENDPOINT = settings.OIDC_OP_USER_ENDPOINT = "http://127.0.0.1:9/unused"
    settings.OIDC_OP_JWKS_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:9/unused"
    _Claims(monkeypatch, {"preferred_username": "system_admin"})
    client = Client()
    response = _callback(client)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.system_admin.pk)
    assert client.session["_auth_user_backend"] == identity.LOCAL_BACKEND
    page = client.get(reverse("workbench:home"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:verify_otp"))
    assert AuditEvent.objects.filter(
        action="accounts.sign_in", actor=cast.system_admin, details__source="oidc"
    ).exists()


def test_a_token_that_does_not_verify_signs_nobody_in(cast, settings, monkeypatch):
    from django.core.exceptions import SuspiciousOperation

    use_oidc(settings, "http://127.0.0.1:9")
    settings.OIDC_OP_TOKEN_ENDPOINT = settings.OIDC_OP_USER_ENDPOINT = "http://127.0.0.1:9/unused"
    settings.OIDC_OP_JWKS_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:9/unused"
    _Claims(monkeypatch, {"preferred_username": "drafter"})

    def forged(self: Any, token: str, **kwargs: Any) -> None:
        raise SuspiciousOperation("JWS token verification failed.")

    monkeypatch.setattr(OfficeOidcBackend, "verify_token", forged)
    client = Client()
    response = _callback(client)
    assert response["Location"] == SIGN_IN_URL
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        action="accounts.identity.oidc", details__reason="invalid_token"
    ).exists()
