"""The shell's context: navigation for the signed-in user and the unread notification count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from officeapp.workbench.navigation import nav_for

    return {"shell_nav": nav_for(request)}
