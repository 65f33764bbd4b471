"""Access primitives every app's own access.py builds on: roles, portfolios (分管), delegations (委托).

Rules of the house: lookups return the same 404 for "missing" and "not yours" (`get_or_404`);
`can_*` answers are booleans; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Case, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone

from officeapp.org.models import (
    ADMIN_ROLES,
    Agency,
    Delegation,
    DelegationScope,
    Department,
    Portfolio,
    Role,
    RoleGrant,
    User,
)

M = TypeVar("M", bound=Model)

NOT_FOUND_MESSAGE = "未找到该对象，或您无权查看。"


def get_or_404(queryset: QuerySet[M], **lookup: Any) -> M:
    """Fetch from a queryset already narrowed to what the user may see: missing and forbidden
    give the same 404, so an id tells an outsider nothing."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc


def grants_of(user: User) -> list[RoleGrant]:
    """The user's role grants, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_officeapp_grants", None)
    if cached is None:
        cached = list(RoleGrant.objects.filter(user=user).select_related("agency", "department"))
        user._officeapp_grants = cached  # type: ignore[attr-defined]
    return cached


def has_role(
    user: User, role: str, *, agency: Agency | int | None = None, department: Department | int | None = None
) -> bool:
    """True when the user holds `role` with a scope that covers the given agency/department.

    A province-wide grant (no scope) covers everything; an agency grant covers the agency and its
    departments; a department grant covers that department only.
    """
    if not getattr(user, "is_active", False):
        return False
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    department_id = department.pk if isinstance(department, Department) else department
    if department_id is not None and agency_id is None:
        agency_id = Department.objects.filter(pk=department_id).values_list("agency_id", flat=True).first()
    for grant in grants_of(user):
        if grant.role != role:
            continue
        if grant.agency_id is None and grant.department_id is None:
            return True
        if agency_id is None and department_id is None:
            return True  # "holds the role somewhere"
        if grant.department_id is not None:
            if grant.department_id == department_id:
                return True
            continue
        if grant.agency_id == agency_id:
            return True
    return False


def roles_of(user: User) -> set[str]:
    return {g.role for g in grants_of(user)}


def admin_role_of(user: User) -> str | None:
    """Which of the three administrator roles (三员) the user holds, if any (never more than one)."""
    for role in roles_of(user):
        if role in ADMIN_ROLES:
            return role
    return None


def is_system_admin(user: User) -> bool:
    return has_role(user, Role.SYSTEM_ADMIN)


def is_security_admin(user: User) -> bool:
    return has_role(user, Role.SECURITY_ADMIN)


def is_audit_admin(user: User) -> bool:
    return has_role(user, Role.AUDIT_ADMIN)


def administered_agencies(user: User) -> QuerySet[Agency]:
    """Agencies whose org the user may maintain: a province-wide 系统管理员 all of them; an agency
    administrator (agency_admin) the agency and everything below it."""
    if is_system_admin(user):
        scoped = [g for g in grants_of(user) if g.role == Role.SYSTEM_ADMIN]
        if any(g.agency_id is None for g in scoped):
            return Agency.objects.all()
        paths = [g.agency.path for g in scoped if g.agency_id]
    else:
        paths = [g.agency.path for g in grants_of(user) if g.role == Role.AGENCY_ADMIN and g.agency_id]
    if not paths:
        return Agency.objects.none()
    condition = Q()
    for p in paths:
        condition |= Q(path__startswith=p)
    return Agency.objects.filter(condition)


def dept_heads_of(department: Department | int) -> QuerySet[User]:
    department_id = department.pk if isinstance(department, Department) else department
    return User.objects.filter(
        is_active=True, role_grants__role=Role.DEPT_HEAD, role_grants__department_id=department_id
    ).distinct()


def leaders_over(department: Department) -> QuerySet[User]:
    """分管领导 of a department: portfolios on the department or on its whole agency."""
    return User.objects.filter(
        Q(portfolios__department=department) | Q(portfolios__agency_id=department.agency_id),
        is_active=True,
    ).distinct()


def oversees(leader: User, department: Department) -> bool:
    return Portfolio.objects.filter(
        Q(department=department) | Q(agency_id=department.agency_id), leader=leader
    ).exists()


def active_delegate(
    user: User, *, scope: str = DelegationScope.ALL, at: datetime | None = None
) -> User | None:
    """The user who acts for `user` now (委托), or None. A scope-specific delegation wins over 'all'."""
    at = at or timezone.now()
    delegations = (
        Delegation.objects.filter(
            from_user=user,
            starts_at__lte=at,
            ends_at__gt=at,
            revoked_at__isnull=True,
            to_user__is_active=True,
            scope__in=[scope, DelegationScope.ALL],
        )
        .select_related("to_user")
        .order_by("-starts_at")
    )
    chosen = None
    for d in delegations:
        if d.scope == scope:
            return d.to_user
        chosen = chosen or d.to_user
    return chosen


def _current_delegations(scope: str, at: datetime) -> QuerySet[Delegation]:
    return Delegation.objects.filter(
        starts_at__lte=at,
        ends_at__gt=at,
        revoked_at__isnull=True,
        to_user__is_active=True,
        scope__in=[scope, DelegationScope.ALL],
    )


def with_delegates(users: QuerySet[User], *, scope: str = DelegationScope.ALL) -> QuerySet[User]:
    """`users` with each one's current delegate (委托) read in the same query: `effective_assignees`
    then needs no query of its own. Evaluated when iterated, so the answer is never older than
    the query that loads the candidates (nothing is cached across requests). The same rule as
    `active_delegate`: a scope-specific delegation wins over 'all', then the latest."""
    current = (
        _current_delegations(scope, timezone.now())
        .filter(from_user=OuterRef("pk"))
        .order_by(
            Case(When(scope=scope, then=Value(0)), default=Value(1), output_field=IntegerField()),
            "-starts_at",
        )
        .values("to_user_id")[:1]
    )
    return users.annotate(current_delegate_id=Subquery(current), delegation_scope=Value(scope))


def effective_assignees(
    users: Iterable[User], *, scope: str = DelegationScope.ALL, at: datetime | None = None
) -> list[User]:
    """Who actually receives a task meant for `users`, honouring delegations. Every later task
    assignment goes through here, so a leader on a business trip never blocks a flow. One query for
    all the users (the same rule as `active_delegate`: a scope-specific delegation wins over 'all'),
    none when the users were loaded `with_delegates` for this scope, unless someone has one."""
    people = list(users)
    if not people:
        return []
    if at is None and all(getattr(u, "delegation_scope", None) == scope for u in people):
        delegate_ids = {u.current_delegate_id for u in people if u.current_delegate_id}
        delegates = {d.pk: d for d in User.objects.filter(pk__in=delegate_ids)} if delegate_ids else {}
        assignees: list[User] = []
        for u in people:
            target = delegates.get(u.current_delegate_id, u)
            if target not in assignees:
                assignees.append(target)
        return assignees
    delegations = (
        _current_delegations(scope, at or timezone.now())
        .filter(from_user__in=people)
        .select_related("to_user")
        .order_by("-starts_at")
    )
    chosen: dict[int, tuple[bool, User]] = {}
    for d in delegations:
        specific = d.scope == scope
        current = chosen.get(d.from_user_id)
        if current is None or (specific and not current[0]):
            chosen[d.from_user_id] = (specific, d.to_user)
    result: list[User] = []
    for u in people:
        target = chosen[u.pk][1] if u.pk in chosen else u
        if target not in result:
            result.append(target)
    return result


def same_agency(a: User, b: User) -> bool:
    return a.agency_id is not None and a.agency_id == b.agency_id
