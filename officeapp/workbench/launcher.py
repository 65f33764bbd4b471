"""The 应用 launcher: which AppLinks a user sees (by agency and role)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from officeapp import access
from officeapp.workbench.models import AppLink


def visible_apps(user: Any) -> list[AppLink]:
    """One query for the links (roles come from the grants cached on the user for the request)."""
    agency_id = getattr(user, "agency_id", None)
    links = (
        AppLink.objects.filter(is_active=True)
        .filter(Q(agencies__isnull=True) | Q(agencies__id=agency_id))
        .distinct()
        .order_by("sort_order", "pk")
    )
    roles = access.roles_of(user)
    return [link for link in links if not link.roles or roles.intersection(link.roles)]
