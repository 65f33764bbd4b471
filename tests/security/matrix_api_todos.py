"""Permission-matrix entries for the to-do API (workflows/api_todos.py) and the notification API
(officeapp/notify/api.py).

The API answers bearer tokens, not sessions: a signed-in browser without a token gets the API's 401
like anyone else (what tokens may do: tests/integration/test_api_todos.py and
test_api_notifications.py). A notification's link to an app's page (`open`) is a page of this site:
anonymous visitors sign in first, and every signed-in person is sent on to the page it was signed for
(the signature, not the reader, is what makes it safe; the notification itself is the recipient's)."""

from __future__ import annotations

from typing import Any

TOKEN_ONLY = {"anonymous": 401, "*": 401}
# The matrix POSTs an empty form (multipart): the bearer check (django-oauth-toolkit reads
# request.POST through DRF's JSON-only parsers) refuses the form with 415 before it answers 401 —
# no access either way; the same holds for every API POST (a foundation matter, reported).
POST_TOKEN_ONLY = {"anonymous": 415, "*": 415}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "api:todos:list": ("get", TOKEN_ONLY),
    "api:todos:bulk": ("post", POST_TOKEN_ONLY),
    "api:todos:detail": ("get", TOKEN_ONLY),
    "api:todos:complete": ("post", POST_TOKEN_ONLY),
    "api:todos:cancel": ("post", POST_TOKEN_ONLY),
    "api:notifications:send": ("post", POST_TOKEN_ONLY),
    "api:notifications:bulk": ("post", POST_TOKEN_ONLY),
    "api:notifications:open": ("get", {"anonymous": 302, "*": 302}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from django.core import signing

    from officeapp.notify.api import LINK_SALT

    return {
        "external_id": "XK-2026-0412",
        "signed": signing.dumps("https://app.example.test/approvals/1", salt=LINK_SALT, compress=True),
    }
