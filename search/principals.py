"""The user's side of permission filtering: which principals a user holds, with their floors.

Each app that stores searchable records says, in its own access.py, which principals a user holds
for its records (`search_principals_of(user)`), mirroring that app's visible_* querysets; the item
side is written by the same app's functions, so the two cannot drift apart silently (each source's
equivalence test compares search visibility with access.py visibility).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# The apps whose access.py answers search_principals_of(user). Imported lazily: search is the
# highest app and these modules import models that must not load before the app registry.
PRINCIPAL_MODULES = (
    "documents.access",  # u:, doc-office:, doc-clerk:
    "workflows.access",  # sup-office:, sup-dept:, sup-agency:, sup-whole:
    "meetings.access",  # mtg-clerk:, mtg-admin:
    "chat.access",  # conv:<id> with the member's joined_seq as floor
)


def _merge(into: dict[str, int | None], more: dict[str, int | None]) -> None:
    for principal, floor in more.items():
        if principal not in into:
            into[principal] = floor
            continue
        # The same principal from two apps ("u:12"): the lower floor wins (None is no floor at all).
        have = into[principal]
        into[principal] = None if have is None or floor is None else min(have, floor)


def principals_of(user: Any) -> dict[str, int | None]:
    """Every principal the user holds, merged over the apps. Nothing for the signed-out; an inactive
    user or the 审计管理员 gets whatever each app's function gives (the apps refuse them)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    merged: dict[str, int | None] = {}
    for module in PRINCIPAL_MODULES:
        _merge(merged, dict(import_module(module).search_principals_of(user)))
    return merged
