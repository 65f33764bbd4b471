"""Permission-matrix entries for the REST API of 督办, meetings and the 通讯录 (workflows/api.py,
meetings/api.py, officeapp/org/api.py).

The API answers bearer tokens, not sessions: every member of the cast, signed in to the site but
without a token, gets the API's 401 like an anonymous caller (what tokens may do, per user and per
app: tests/integration/test_api_supervision.py, test_api_meetings.py, test_api_directory.py). The
URL arguments are the shared ones (item_id, meeting_id, user_id)."""

from __future__ import annotations

from typing import Any

TOKEN_ONLY = {"anonymous": 401, "*": 401}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "api:supervision:items": ("get", TOKEN_ONLY),
    "api:supervision:item": ("get", TOKEN_ONLY),
    "api:supervision:reports": ("get", TOKEN_ONLY),
    "api:meetings:api_meetings": ("get", TOKEN_ONLY),
    "api:meetings:api_meeting": ("get", TOKEN_ONLY),
    "api:directory:agencies": ("get", TOKEN_ONLY),
    "api:directory:departments": ("get", TOKEN_ONLY),
    "api:directory:people": ("get", TOKEN_ONLY),
    "api:directory:person": ("get", TOKEN_ONLY),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    return {}
