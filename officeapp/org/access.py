"""Who may see or maintain which part of the organisation.

Agency administrators maintain only the agencies `officeapp.access.administered_agencies` gives them
(系统管理员 the province, 单位管理员 one agency subtree). A user who administers nothing gets 403 on
the management pages; an object outside the administrator's scope gets the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from officeapp import access
from officeapp.org.models import (
    ADMIN_ROLES,
    Agency,
    ConcurrentPost,
    Delegation,
    Department,
    Portfolio,
    Role,
    RoleGrant,
    User,
)

FORBIDDEN_MESSAGE = "您没有维护组织机构的权限。"


def is_org_admin(user: Any) -> bool:
    """True when the user maintains at least one agency (the management pages' 403 line)."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_officeapp_is_org_admin", None)
    if cached is None:
        cached = access.administered_agencies(user).exists()
        user._officeapp_is_org_admin = cached
    return cached


def require_org_admin(user: Any) -> None:
    if not is_org_admin(user):
        raise PermissionDenied(FORBIDDEN_MESSAGE)


def can_keep_positions(user: Any) -> bool:
    """职务 is one province-wide list: only the 系统管理员 keeps it (an agency's admin would change it for all)."""
    return access.is_system_admin(user)


def require_position_keeper(user: Any) -> None:
    if not can_keep_positions(user):
        raise PermissionDenied(FORBIDDEN_MESSAGE)


def can_read_directory(user: Any) -> bool:
    """Everyone reads the 通讯录 except the 审计管理员, who reads the audit log and nothing else (三员分立)."""
    return not access.is_audit_admin(user)


def require_directory_reader(user: Any) -> None:
    if not can_read_directory(user):
        raise PermissionDenied("审计管理员不使用通讯录。")


def managed_agencies(user: Any) -> QuerySet[Agency]:
    return access.administered_agencies(user)


def managed_departments(user: Any) -> QuerySet[Department]:
    return Department.objects.filter(agency__in=access.administered_agencies(user))


# Accounts an agency administrator may not touch: the 三员 and other agency administrators. Otherwise
# resetting a 安全管理员's password would hand the agency administrator the security role.
PROTECTED_ROLES: tuple[str, ...] = (*ADMIN_ROLES, Role.AGENCY_ADMIN)


def managed_users(user: Any) -> QuerySet[User]:
    users = User.objects.filter(department__agency__in=access.administered_agencies(user))
    if not access.is_system_admin(user):
        users = users.exclude(pk__in=RoleGrant.objects.filter(role__in=PROTECTED_ROLES).values("user_id"))
    return users


def can_manage_user(actor: Any, subject: User) -> bool:
    """`actor` None is the system itself (management commands)."""
    if actor is None:
        return True
    return managed_users(actor).filter(pk=subject.pk).exists()


def can_manage_agency(user: Any, agency: Agency | int | None) -> bool:
    """`user` None is the system itself (management commands such as load_demo)."""
    if user is None:
        return True
    if agency is None:
        return access.is_system_admin(user)
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return access.administered_agencies(user).filter(pk=agency_id).exists()


def get_agency_for_admin(user: Any, agency_id: Any) -> Agency:
    require_org_admin(user)
    return access.get_or_404(managed_agencies(user), pk=agency_id)


def get_department_for_admin(user: Any, department_id: Any) -> Department:
    require_org_admin(user)
    return access.get_or_404(managed_departments(user).select_related("agency", "parent"), pk=department_id)


def get_user_for_admin(user: Any, user_id: Any) -> User:
    require_org_admin(user)
    return access.get_or_404(managed_users(user).select_related("department__agency", "position"), pk=user_id)


def get_concurrent_post_for_admin(user: Any, post_id: Any) -> ConcurrentPost:
    require_org_admin(user)
    return access.get_or_404(
        ConcurrentPost.objects.filter(user__in=managed_users(user)).select_related("user__department"),
        pk=post_id,
    )


def get_portfolio_for_admin(user: Any, portfolio_id: Any) -> Portfolio:
    require_org_admin(user)
    return access.get_or_404(
        Portfolio.objects.filter(leader__department__agency__in=managed_agencies(user)).select_related(
            "leader"
        ),
        pk=portfolio_id,
    )


def can_delegate_for(actor: Any, from_user: User) -> bool:
    """The leave-taker sets up their own 委托; an administrator of their agency may do it for them."""
    if actor is None:
        return True
    if actor.pk == from_user.pk:
        return True
    return from_user.agency_id is not None and can_manage_agency(actor, from_user.agency_id)


def own_delegations(user: Any) -> QuerySet[Delegation]:
    """委托 the user gave or received."""
    from django.db.models import Q

    return Delegation.objects.filter(Q(from_user=user) | Q(to_user=user))


def get_delegation_for(user: Any, delegation_id: Any) -> Delegation:
    return access.get_or_404(own_delegations(user).select_related("from_user", "to_user"), pk=delegation_id)
