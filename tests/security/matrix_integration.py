"""Permission-matrix entries for the integration platform's URLs (officeapp/integration/urls.py).

The API and the token endpoint answer bearer tokens, not sessions: a signed-in browser without a
token gets the API's 401 like anyone else (what tokens may do: tests/integration/). The OAuth2
authorize endpoint sends an anonymous visitor to sign in and answers a signed-in one with its error
page for a request without a client (400). The schema and its pages are public documentation."""

from __future__ import annotations

from typing import Any

PUBLIC = {"anonymous": 200, "*": 200}
TOKEN_ONLY = {"anonymous": 401, "*": 401}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "api:me": ("get", TOKEN_ONLY),
    "api-schema": ("get", PUBLIC),
    "api-docs": ("get", PUBLIC),
    "api-redoc": ("get", PUBLIC),
    "oidc-discovery": ("get", PUBLIC),
    "oauth2_provider:oidc-connect-discovery-info": ("get", PUBLIC),
    "oauth2_provider:jwks-info": ("get", PUBLIC),
    "oauth2_provider:authorize": ("get", {"anonymous": 302, "*": 400}),
    # An empty POST: the OAuth2 error (no grant type, no token), whoever is signed in to the site.
    "oauth2_provider:token": ("post", {"anonymous": 400, "*": 400}),
    "oauth2_provider:revoke-token": ("post", {"anonymous": 400, "*": 400}),
    # Introspection answers only a resource server's token with the introspection scope.
    "oauth2_provider:introspect": ("post", {"anonymous": 403, "*": 403}),
    "oauth2_provider:user-info": ("get", {"anonymous": 401, "*": 401}),
    # RP-initiated logout: the signed-in are asked to confirm; nobody to sign out goes on at once.
    "oauth2_provider:rp-initiated-logout": ("get", {"anonymous": 302, "*": 200}),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    return {}
