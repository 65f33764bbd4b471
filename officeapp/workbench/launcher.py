"""The 应用 launcher: the registered apps (officeapp.integration.models.App) a user sees.

An app is shown when it is active and either sets no visibility (then everyone of its owner agency
sees it) or the user's agency lies in or under one of its `visible_agencies`, or the user's department
in or under one of its `visible_departments`; when it names `visible_roles` the user must also hold
one of them. "In or under" uses the materialised paths, so choosing the province's top agency shows an
app to everyone. One query; roles come from the grants cached on the user for the request.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from officeapp import access
from officeapp.integration.models import App, AppStatus

# org services write paths as 7-digit ids each followed by "." (officeapp.org.services._child_path).
PATH_STEP = 8


def ancestor_paths(path: str) -> list[str]:
    """The paths of a node and every node above it."""
    return [path[:end] for end in range(PATH_STEP, len(path) + 1, PATH_STEP)]


def visible_apps(user: Any) -> list[App]:
    department = getattr(user, "department", None) if getattr(user, "department_id", None) else None
    if department is None:
        return []
    agency = department.agency
    seen_by_owner = Q(
        owner_agency_id=agency.pk, visible_agencies__isnull=True, visible_departments__isnull=True
    )
    seen_by_choice = Q(visible_agencies__path__in=ancestor_paths(agency.path)) | Q(
        visible_departments__path__in=ancestor_paths(department.path)
    )
    apps = (
        App.objects.filter(status=AppStatus.ACTIVE)
        .filter(seen_by_owner | seen_by_choice)
        .distinct()
        .only("pk", "name", "icon", "url", "description", "visible_roles", "sort_order")
        .order_by("sort_order", "pk")
    )
    roles = access.roles_of(user)
    return [app for app in apps if not app.visible_roles or roles.intersection(app.visible_roles)]
