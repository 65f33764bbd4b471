"""Permission-matrix entries for the documents API (documents/api.py, under /api/v1/documents/).

The API answers bearer tokens, not sessions: every member of the cast signed in to the site, and
an anonymous visitor, gets the API's 401 without a token (what tokens may read: tests/integration/
test_api_documents.py). URL arguments are the matrix's document and its attachment."""

from __future__ import annotations

from typing import Any

TOKEN_ONLY = {"anonymous": 401, "*": 401}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "api:documents:list": ("get", TOKEN_ONLY),
    "api:documents:detail": ("get", TOKEN_ONLY),
    "api:documents:rendering": ("get", TOKEN_ONLY),
    "api:documents:attachments": ("get", TOKEN_ONLY),
    "api:documents:attachment": ("get", TOKEN_ONLY),
    "api:documents:exchange": ("get", TOKEN_ONLY),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    return {}
