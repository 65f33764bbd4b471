"""Who manages a registered app, and who reads its call log.

A province-wide 系统管理员 manages every app; a 单位管理员 (Role.AGENCY_ADMIN) manages the apps their
agency owns (the grant's agency exactly: a city's systems are the city's administrators' to run). The
安全管理员 and 审计管理员 read an app's call log (its audit events) and nothing else. Missing and
forbidden are the same 404, so an app id tells an outsider nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from officeapp import access
from officeapp.integration.models import App
from officeapp.org.models import Agency, Role


def is_platform_admin(user: Any) -> bool:
    """A 系统管理员 with a province-wide grant: every app, and the platform's trust decisions
    (免授权确认, data of agencies outside the owner's)."""
    return any(
        g.role == Role.SYSTEM_ADMIN and g.agency_id is None and g.department_id is None
        for g in access.grants_of(user)
    ) and bool(getattr(user, "is_active", False))


def admin_agency_ids(user: Any) -> set[int]:
    """Agencies whose apps the user manages as their 单位管理员 (from the grants cached for the request)."""
    if not getattr(user, "is_active", False):
        return set()
    return {g.agency_id for g in access.grants_of(user) if g.role == Role.AGENCY_ADMIN and g.agency_id}


def manageable_apps(user: Any) -> QuerySet[App]:
    if is_platform_admin(user):
        return App.objects.all()
    ids = admin_agency_ids(user)
    if not ids:
        return App.objects.none()
    return App.objects.filter(owner_agency_id__in=ids)


def can_manage(user: Any, app: App) -> bool:
    return is_platform_admin(user) or app.owner_agency_id in admin_agency_ids(user)


def may_manage_any(user: Any) -> bool:
    """Whether 应用管理 is the user's at all (the navigation entry, the register page)."""
    return is_platform_admin(user) or bool(admin_agency_ids(user))


def registrable_agencies(user: Any) -> QuerySet[Agency]:
    """Agencies the user may register an app for."""
    if is_platform_admin(user):
        return Agency.objects.filter(is_active=True)
    return Agency.objects.filter(is_active=True, pk__in=admin_agency_ids(user))


def get_app_for(user: Any, app_id: Any) -> App:
    """An app the user manages; 404 for a missing one and for another's alike."""
    return access.get_or_404(manageable_apps(user).select_related("owner_agency"), pk=app_id)


def may_read_call_logs(user: Any) -> bool:
    return access.is_security_admin(user) or access.is_audit_admin(user)


def log_readable_apps(user: Any) -> QuerySet[App]:
    """Apps whose call log the user reads: those they manage, every one for the 安全/审计管理员."""
    if may_read_call_logs(user):
        return App.objects.all()
    return manageable_apps(user)


def get_app_log_for(user: Any, app_id: Any) -> App:
    return access.get_or_404(log_readable_apps(user).select_related("owner_agency"), pk=app_id)
