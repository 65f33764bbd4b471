"""Permission-matrix entries for search (search/urls.py): every signed-in person may search (what
they find is their own business: tests/security/test_search_leaks.py); the page needs a session."""

from __future__ import annotations

from typing import Any

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "search:results": ("get", {"anonymous": 302, "*": 200}),
    "search:suggest": ("get", {"anonymous": 302, "*": 200}),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    return {}
