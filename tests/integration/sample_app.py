"""A small agency system that signs its users in through officeapp (the relying party of the tests).

It is what a real 行政审批 or 财务 system does with a stock OIDC client library (authlib), over real
HTTP against officeapp's live server: discovery, an authorization request with PKCE (S256), state
and nonce, the code exchanged at the token endpoint with its client secret, and the ID token checked
against the provider's published keys (signature, iss, aud, nonce, exp) before anyone counts as
signed in. It runs on its own port (wsgiref in a thread); a browser-like `requests.Session` visits
it, and its pages answer in JSON so tests can read what it learnt.

Routes: /login (→ officeapp's authorize endpoint), /callback (redirect_uri), /logged-out
(post_logout_redirect_uri).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

COOKIE = "sample_sid"  # not officeapp's cookie names: both servers are on 127.0.0.1


class IdTokenRejected(Exception):
    pass


@dataclass
class Provider:
    """What the app learns from officeapp's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str
    revocation_endpoint: str

    @classmethod
    def discover(cls, discovery_url: str) -> Provider:
        doc = requests.get(discovery_url, timeout=10).json()
        # DOT's OIDC discovery has no revocation_endpoint; RFC 8414 metadata would. Derived from
        # the issuer, as our README tells agencies.
        return cls(
            issuer=doc["issuer"],
            authorization_endpoint=doc["authorization_endpoint"],
            token_endpoint=doc["token_endpoint"],
            jwks_uri=doc["jwks_uri"],
            userinfo_endpoint=doc["userinfo_endpoint"],
            end_session_endpoint=doc["end_session_endpoint"],
            revocation_endpoint=doc.get("revocation_endpoint") or f"{doc['issuer']}/revoke_token/",
        )


def verify_id_token(
    id_token: str, *, provider: Provider, client_id: str, nonce: str | None
) -> dict[str, Any]:
    """The ID token's claims, after checking its RS256 signature against the provider's JWKS and
    its iss, aud, exp (and nonce when one was sent)."""
    keys = KeySet.import_key_set(requests.get(provider.jwks_uri, timeout=10).json())
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
        checks: dict[str, Any] = {
            "iss": {"essential": True, "value": provider.issuer},
            "aud": {"essential": True, "value": client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            checks["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(**checks).validate(token.claims)
    except Exception as error:  # joserfc raises several kinds; all mean "do not sign in"
        raise IdTokenRejected(f"{type(error).__name__}: {error}") from error
    return dict(token.claims)


@dataclass
class SampleApp:
    discovery_url: str
    client_id: str
    client_secret: str
    scope: str = "openid profile"
    base_url: str = ""
    provider: Provider | None = None
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the app holds after the last successful sign-in (tokens, verified claims).
    last_sign_in: dict[str, Any] = field(default_factory=dict)

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.base_url}/logged-out"

    def oauth(self, **kwargs: Any) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            **kwargs,
        )

    def _provider(self) -> Provider:
        if self.provider is None:
            self.provider = Provider.discover(self.discovery_url)
        return self.provider

    # --- The app's pages (WSGI) -------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = cookie[COOKIE].value if COOKIE in cookie else ""
        session = self.sessions.get(sid)
        headers: list[tuple[str, str]] = []
        if session is None:
            sid = secrets.token_urlsafe(16)
            session = self.sessions[sid] = {}
            headers.append(("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly"))
        if path == "/login":
            status, body, extra = self._login(session)
        elif path == "/callback":
            status, body, extra = self._callback(session, environ, query)
        elif path == "/logged-out":
            session.clear()
            status, body, extra = "200 OK", {"signed_out": True, "state": query.get("state")}, []
        else:
            status, body, extra = "404 Not Found", {"error": "not found"}, []
        start_response(status, [("Content-Type", "application/json; charset=utf-8"), *headers, *extra])
        return [json.dumps(body, ensure_ascii=False).encode()]

    def _login(self, session: dict[str, Any]) -> tuple[str, Any, list[tuple[str, str]]]:
        provider = self._provider()
        verifier, nonce = generate_token(48), generate_token(24)
        url, state = self.oauth().create_authorization_url(
            provider.authorization_endpoint, code_verifier=verifier, nonce=nonce
        )
        session.update(state=state, verifier=verifier, nonce=nonce)
        return "302 Found", {}, [("Location", url)]

    def _callback(
        self, session: dict[str, Any], environ: dict[str, Any], query: dict[str, str]
    ) -> tuple[str, Any, list[tuple[str, str]]]:
        provider = self._provider()
        if "error" in query:
            return (
                "400 Bad Request",
                {"error": query["error"], "description": query.get("error_description")},
                [],
            )
        if not session.get("state") or query.get("state") != session["state"]:
            return "400 Bad Request", {"error": "state mismatch"}, []
        # RFC 9207: the provider names itself in the response; a mix-up attack would show another.
        if query.get("iss", provider.issuer) != provider.issuer:
            return "400 Bad Request", {"error": "issuer mismatch"}, []
        response_url = f"{self.redirect_uri}?{environ.get('QUERY_STRING', '')}"
        token = self.oauth(state=session["state"]).fetch_token(
            provider.token_endpoint, authorization_response=response_url, code_verifier=session["verifier"]
        )
        try:
            claims = verify_id_token(
                token["id_token"], provider=provider, client_id=self.client_id, nonce=session["nonce"]
            )
        except IdTokenRejected as error:
            return "400 Bad Request", {"error": "id_token rejected", "detail": str(error)}, []
        session.update(user=claims["sub"], token=dict(token), claims=claims)
        self.last_sign_in = {"token": dict(token), "claims": claims}
        return "200 OK", {"signed_in": claims["sub"], "claims": claims, "scope": token.get("scope", "")}, []


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


class SampleAppServer:
    """The sample app on a free 127.0.0.1 port, in a daemon thread."""

    def __init__(self, app: SampleApp) -> None:
        self.app = app
        self.httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
        app.base_url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sample-app", daemon=True)

    def __enter__(self) -> SampleApp:
        self.thread.start()
        return self.app

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


# --- A browser's part: following redirects and submitting officeapp's forms ---------------------


class _FormParser:
    """The post forms of a page: action, id and named inputs (hidden values, buttons)."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        forms: list[dict[str, Any]] = []

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                a = {k: v or "" for k, v in attrs}
                if tag == "form":
                    forms.append(
                        {
                            "action": a.get("action", ""),
                            "id": a.get("id", ""),
                            "method": a.get("method", "get").lower(),
                            "fields": {},
                            "buttons": {},
                        }
                    )
                elif forms and tag in ("input", "button") and a.get("name"):
                    kind = a.get("type", "submit" if tag == "button" else "text")
                    target = forms[-1]["buttons"] if kind == "submit" else forms[-1]["fields"]
                    target[a["name"]] = a.get("value", "")

        Parser().feed(html)
        self.forms = forms


def submit(
    session: requests.Session,
    page: requests.Response,
    data: dict[str, str] | None = None,
    *,
    form_id: str | None = None,
    button: str | None = None,
) -> requests.Response:
    """Submit a post form of `page` as a browser would: its hidden fields (CSRF token included),
    `data` typed in, and the named submit button pressed (none: the form's first, unnamed one)."""
    from urllib.parse import urljoin

    forms = [
        f
        for f in _FormParser(page.text).forms
        if f["method"] == "post" and (form_id is None or f["id"] == form_id)
    ]
    if not forms:
        raise AssertionError(f"no post form on {page.url}: {page.text[:500]}")
    form = forms[-1] if form_id is None else forms[0]
    payload = {**form["fields"], **(data or {})}
    if button is not None:
        payload[button] = form["buttons"].get(button, "on")
    return session.post(urljoin(page.url, form["action"] or page.url), data=payload, timeout=20)
