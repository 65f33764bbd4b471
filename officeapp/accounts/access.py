"""Who may reach the accounts pages. The 安全管理员's page answers 403 to any other signed-in user
(a page of the wrong role); a grant looked up by id answers 404 when missing (officeapp.access)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from officeapp.access import get_or_404, is_security_admin
from officeapp.org.models import RoleGrant

FORBIDDEN_MESSAGE = "仅安全管理员可以访问此页面。"


def require_security_admin(user: Any) -> None:
    if not is_security_admin(user):
        raise PermissionDenied(FORBIDDEN_MESSAGE)


def visible_grants(user: Any, *, query: str = "", role: str = "") -> QuerySet[RoleGrant]:
    require_security_admin(user)
    grants = RoleGrant.objects.select_related(
        "user", "agency", "department", "department__agency", "granted_by"
    )
    if query:
        grants = grants.filter(Q(user__username__startswith=query) | Q(user__real_name__startswith=query))
    if role:
        grants = grants.filter(role=role)
    return grants.order_by("-granted_at", "-pk")


def get_grant_for(user: Any, grant_id: int) -> RoleGrant:
    require_security_admin(user)
    return get_or_404(RoleGrant.objects.select_related("user"), pk=grant_id)
