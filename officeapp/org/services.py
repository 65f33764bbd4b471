"""Organisation services: every change to agencies, departments and users goes through here."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from officeapp import access
from officeapp.audit.services import record
from officeapp.notify.services import end_socket_sessions
from officeapp.org import access as org_access
from officeapp.org.handover import HandoverReport, open_work
from officeapp.org.models import (
    Agency,
    ConcurrentPost,
    Delegation,
    DelegationScope,
    Department,
    Portfolio,
    Position,
    Role,
    RoleGrant,
    User,
)
from officeapp.org.pinyin import pinyin_keys
from officeapp.outbox.services import emit


def _child_path(parent_path: str, pk: int) -> str:
    return f"{parent_path}{pk:07d}."


@transaction.atomic
def create_agency(
    *,
    actor: Any,
    name: str,
    level: str,
    code: str,
    parent: Agency | None = None,
    short_name: str = "",
    number_prefix: str = "",
    sort_order: int = 0,
) -> Agency:
    _require_scope(actor, parent)
    agency = Agency.objects.create(
        name=name,
        level=level,
        code=code,
        parent=parent,
        short_name=short_name,
        number_prefix=number_prefix,
        sort_order=sort_order,
    )
    agency.path = _child_path(parent.path if parent else "", agency.pk)
    agency.save(update_fields=["path"])
    record("org.agency.create", actor=actor, obj=agency)
    emit("org.agency.changed", agency)
    return agency


@transaction.atomic
def create_department(
    *,
    actor: Any,
    agency: Agency,
    name: str,
    code: str,
    parent: Department | None = None,
    kind: str = Department.Kind.GENERAL,
    sort_order: int = 0,
    phone: str = "",
) -> Department:
    _require_scope(actor, agency)
    if parent is not None and parent.agency_id != agency.pk:
        raise OrgError("上级部门必须属于同一机关。")
    department = Department.objects.create(
        agency=agency, parent=parent, name=name, code=code, kind=kind, sort_order=sort_order, phone=phone
    )
    department.path = _child_path(parent.path if parent else "", department.pk)
    department.save(update_fields=["path"])
    record("org.department.create", actor=actor, obj=department)
    emit("org.department.changed", department)
    return department


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    real_name: str,
    department: Department | None,
    password: str | None = None,
    employee_no: str | None = None,
    mobile: str = "",
    email: str = "",
    position: Position | None = None,
    must_change_password: bool = False,
    sort_order: int = 0,
    office_phone: str = "",
) -> User:
    _require_scope(actor, department.agency_id if department else None)
    full, initials = pinyin_keys(real_name)
    user = User(
        username=username,
        real_name=real_name,
        department=department,
        employee_no=employee_no,
        mobile=mobile,
        office_phone=office_phone,
        email=email,
        position=position,
        must_change_password=must_change_password,
        name_pinyin=full,
        name_initials=initials,
        sort_order=sort_order,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record("org.user.create", actor=actor, obj=user)
    emit("org.user.changed", user, payload={"event": "created"})
    return user


@transaction.atomic
def grant_role(
    *, actor: Any, user: User, role: str, agency: Agency | None = None, department: Department | None = None
) -> RoleGrant:
    """Grant a role. 三员分立 is enforced by the partial unique index; the caller's access check
    (only the 安全管理员 grants roles) lives in the pages' services."""
    grant = RoleGrant.objects.create(
        user=user,
        role=role,
        agency=agency,
        department=department,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        "org.role.grant",
        actor=actor,
        obj=user,
        details={"role": role, "agency": agency and agency.pk, "department": department and department.pk},
    )
    emit("org.user.changed", user, payload={"event": "role_granted", "role": role})
    return grant


ROLE_LABELS = dict(Role.choices)


# --- Maintenance by agency administrators ---------------------------------------------------------


class OrgError(ValidationError):
    """A refused org change, with a message for the administrator (Chinese)."""


def _require_scope(actor: Any, agency: Agency | int | None) -> None:
    if not org_access.can_manage_agency(actor, agency):
        raise PermissionDenied(org_access.FORBIDDEN_MESSAGE)


def _require_user_scope(actor: Any, user: User) -> None:
    if not org_access.can_manage_user(actor, user):
        raise PermissionDenied(org_access.FORBIDDEN_MESSAGE)


def _move_subtree(model: type[Agency] | type[Department], old_prefix: str, new_prefix: str) -> int:
    """Rewrite `path` of a whole subtree in one UPDATE, so "everything under" stays one prefix query."""
    return model.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1), output_field=CharField())
    )


def _save_changes(obj: Agency | Department | User, values: dict[str, Any], *, actor: Any, kind: str) -> None:
    """Save only the fields that changed, then audit and emit `org.<kind>.update/changed` with their names."""
    fields = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in fields:
        setattr(obj, name, values[name])
    if fields:
        obj.save(update_fields=fields)
    record(f"org.{kind}.update", actor=actor, obj=obj, details={"fields": fields})
    emit(f"org.{kind}.changed", obj, payload={"event": "updated", "fields": fields})


def _reparent(
    node: Agency | Department, parent: Agency | Department | None, *, actor: Any, kind: str
) -> None:
    """Put a tree node under `parent` (None: top level) and rewrite its subtree's paths. The caller
    has checked scope and refused cycles; the same parent is no change and no event."""
    if (parent.pk if parent else None) == node.parent_id:
        return
    old_path = node.path
    new_path = _child_path(parent.path if parent else "", node.pk)
    node.parent = parent
    node.save(update_fields=["parent"])
    moved = _move_subtree(type(node), old_path, new_path)
    node.path = new_path
    record(
        f"org.{kind}.move", actor=actor, obj=node, details={"parent": parent and parent.pk, "subtree": moved}
    )
    emit(f"org.{kind}.changed", node, payload={"event": "moved", "parent": parent and parent.pk})


@transaction.atomic
def update_agency(
    agency: Agency,
    *,
    actor: Any,
    name: str,
    short_name: str = "",
    number_prefix: str = "",
    level: str | None = None,
    sort_order: int | None = None,
) -> Agency:
    _require_scope(actor, agency)
    values: dict[str, Any] = {"name": name, "short_name": short_name, "number_prefix": number_prefix}
    if level is not None:
        values["level"] = level
    if sort_order is not None:
        values["sort_order"] = sort_order
    _save_changes(agency, values, actor=actor, kind="agency")
    return agency


@transaction.atomic
def move_agency(agency: Agency, *, actor: Any, parent: Agency | None) -> Agency:
    """Put an agency (with everything under it) under another parent; the subtree's paths follow."""
    _require_scope(actor, agency)
    _require_scope(actor, parent)
    if parent is not None and parent.path.startswith(agency.path):
        raise OrgError("不能把机关移到它自己或其下级机关之下。")
    _reparent(agency, parent, actor=actor, kind="agency")
    return agency


@transaction.atomic
def update_department(
    department: Department,
    *,
    actor: Any,
    name: str,
    kind: str | None = None,
    phone: str = "",
    sort_order: int | None = None,
    code: str | None = None,
) -> Department:
    _require_scope(actor, department.agency_id)
    values: dict[str, Any] = {"name": name, "phone": phone}
    if kind is not None:
        values["kind"] = kind
    if sort_order is not None:
        values["sort_order"] = sort_order
    if code is not None:
        values["code"] = code
    _save_changes(department, values, actor=actor, kind="department")
    return department


@transaction.atomic
def edit_department(
    department: Department,
    *,
    actor: Any,
    parent: Department | None,
    name: str,
    kind: str | None = None,
    phone: str = "",
    sort_order: int | None = None,
    code: str | None = None,
) -> Department:
    """The edit form's one call: new details and a new place in the tree, both or neither (a refused
    move must not leave the rename behind)."""
    update_department(
        department, actor=actor, name=name, kind=kind, phone=phone, sort_order=sort_order, code=code
    )
    return move_department(department, actor=actor, parent=parent)


@transaction.atomic
def move_department(department: Department, *, actor: Any, parent: Department | None) -> Department:
    """Move a department under another one of the same agency (None: top level)."""
    _require_scope(actor, department.agency_id)
    if parent is not None:
        if parent.agency_id != department.agency_id:
            raise OrgError("上级部门必须属于同一机关。")
        if parent.path.startswith(department.path):
            raise OrgError("不能把部门移到它自己或其下级部门之下。")
    _reparent(department, parent, actor=actor, kind="department")
    return department


@transaction.atomic
def update_user(
    user: User,
    *,
    actor: Any,
    real_name: str,
    employee_no: str | None = None,
    mobile: str = "",
    office_phone: str = "",
    email: str = "",
    position: Position | None = None,
    sort_order: int | None = None,
) -> User:
    """Edit a user's details; the address book's pinyin keys follow the name."""
    _require_user_scope(actor, user)
    full, initials = pinyin_keys(real_name)
    values: dict[str, Any] = {
        "real_name": real_name,
        "employee_no": employee_no or None,
        "mobile": mobile,
        "office_phone": office_phone,
        "email": email,
        "position": position,
        "name_pinyin": full,
        "name_initials": initials,
    }
    if sort_order is not None:
        values["sort_order"] = sort_order
    _save_changes(user, values, actor=actor, kind="user")
    return user


@transaction.atomic
def create_position(*, actor: Any, name: str, rank: int = 0) -> Position:
    if actor is not None:
        org_access.require_position_keeper(actor)
    position = Position.objects.create(name=name, rank=rank)
    record("org.position.create", actor=actor, obj=position)
    return position


@transaction.atomic
def add_concurrent_post(
    user: User, *, actor: Any, department: Department, position: Position | None = None
) -> ConcurrentPost:
    """兼职: the user also works in `department` (its administrator must be the actor's too)."""
    _require_user_scope(actor, user)
    _require_scope(actor, department.agency_id)
    if department.pk == user.department_id:
        raise OrgError("兼职部门不能是该用户的主部门。")
    if ConcurrentPost.objects.filter(user=user, department=department).exists():
        raise OrgError("该用户已在此部门兼职。")
    post = ConcurrentPost.objects.create(user=user, department=department, position=position)
    record("org.user.concurrent_post.add", actor=actor, obj=user, details={"department": department.pk})
    emit("org.user.changed", user, payload={"event": "concurrent_post_added", "department": department.pk})
    return post


@transaction.atomic
def remove_concurrent_post(post: ConcurrentPost, *, actor: Any) -> None:
    _require_user_scope(actor, post.user)
    user, department_id = post.user, post.department_id
    post.delete()
    record("org.user.concurrent_post.remove", actor=actor, obj=user, details={"department": department_id})
    emit("org.user.changed", user, payload={"event": "concurrent_post_removed", "department": department_id})


@transaction.atomic
def add_portfolio(
    *, actor: Any, leader: User, department: Department | None = None, agency: Agency | None = None
) -> Portfolio:
    """分管: `leader` oversees a department or a whole agency; routes 签发, 批办 and escalation."""
    if (department is None) == (agency is None):
        raise OrgError("请选择分管的部门或机关（二选一）。")
    _require_scope(actor, leader.agency_id)
    _require_scope(actor, department.agency_id if department else agency)
    if not leader.is_active:
        raise OrgError("已停用的用户不能分管部门。")
    if Portfolio.objects.filter(leader=leader, department=department, agency=agency).exists():
        raise OrgError("该分管关系已存在。")
    portfolio = Portfolio.objects.create(leader=leader, department=department, agency=agency)
    record(
        "org.portfolio.add",
        actor=actor,
        obj=leader,
        details={"department": department and department.pk, "agency": agency and agency.pk},
    )
    emit("org.user.changed", leader, payload={"event": "portfolio_added"})
    return portfolio


@transaction.atomic
def remove_portfolio(portfolio: Portfolio, *, actor: Any) -> None:
    _require_scope(actor, portfolio.leader.agency_id)
    leader = portfolio.leader
    details = {"department": portfolio.department_id, "agency": portfolio.agency_id}
    portfolio.delete()
    record("org.portfolio.remove", actor=actor, obj=leader, details=details)
    emit("org.user.changed", leader, payload={"event": "portfolio_removed"})


@transaction.atomic
def create_delegation(
    *,
    actor: Any,
    from_user: User,
    to_user: User,
    starts_at: datetime,
    ends_at: datetime,
    scope: str = DelegationScope.ALL,
    reason: str = "",
) -> Delegation:
    """委托: `to_user` handles `from_user`'s tasks in [starts_at, ends_at). The leave-taker or an
    administrator of their agency creates it; periods of the same scope must not overlap."""
    if not org_access.can_delegate_for(actor, from_user):
        raise PermissionDenied("只有委托人本人或其机关的管理员可以设置委托。")
    if ends_at <= starts_at:
        raise OrgError("结束时间必须晚于开始时间。")
    if to_user.pk == from_user.pk:
        raise OrgError("不能委托给自己。")
    if not to_user.is_active:
        raise OrgError("受托人已停用。")
    if scope not in DelegationScope.values:
        raise OrgError("委托范围无效。")
    # Lock the delegator's row so two concurrent requests cannot both pass the overlap check.
    User.objects.select_for_update().filter(pk=from_user.pk).first()
    overlapping = Delegation.objects.filter(
        from_user=from_user,
        scope=scope,
        revoked_at__isnull=True,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if overlapping.exists():
        raise OrgError("该时间段内已有相同范围的委托，请先撤销或调整时间。")
    delegation = Delegation.objects.create(
        from_user=from_user, to_user=to_user, starts_at=starts_at, ends_at=ends_at, scope=scope, reason=reason
    )
    record(
        "org.delegation.create",
        actor=actor,
        obj=delegation,
        details={"from_user": from_user.pk, "to_user": to_user.pk, "scope": scope},
    )
    emit("org.user.changed", from_user, payload={"event": "delegation_created", "delegation": delegation.pk})
    return delegation


@transaction.atomic
def revoke_delegation(delegation: Delegation, *, actor: Any) -> Delegation:
    if not org_access.can_delegate_for(actor, delegation.from_user):
        raise PermissionDenied("只有委托人本人或其机关的管理员可以撤销委托。")
    if delegation.revoked_at is not None:
        raise OrgError("该委托已撤销。")
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    record("org.delegation.revoke", actor=actor, obj=delegation)
    emit(
        "org.user.changed",
        delegation.from_user,
        payload={"event": "delegation_revoked", "delegation": delegation.pk},
    )
    return delegation


def default_successor(user: User, department: Department | None = None) -> User | None:
    """The department head (处室负责人) of the user's department, not the user themself."""
    department_id = department.pk if department else user.department_id
    if department_id is None:
        return None
    return access.dept_heads_of(department_id).exclude(pk=user.pk).order_by("pk").first()


def _hand_over(
    user: User, *, actor: Any, successor: User | None, department: Department | None = None
) -> HandoverReport:
    successor = successor or default_successor(user, department)
    if successor is not None:
        if successor.pk == user.pk:
            raise OrgError("接替人不能是本人。")
        if not successor.is_active:
            raise OrgError("接替人已停用。")
    report = HandoverReport(successor=successor)
    for provider, count in open_work(user):
        if count == 0:
            continue
        if successor is None:
            raise OrgError("该用户还有未办事项，但所在部门没有其他负责人，请指定接替人。")
        report.moved[provider.name] = provider.hand_over(user, successor, actor=actor)
    return report


def _lock_user(user: User) -> None:
    """Lock the user's row, then re-read what the checks depend on: a second submit of the same form
    (a double click, two administrators) waits here and is refused instead of acting twice."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    user.refresh_from_db(fields=["is_active", "disabled_at", "session_epoch", "department"])


@transaction.atomic
def disable_user(user: User, *, actor: Any, successor: User | None = None) -> HandoverReport:
    """停用: hand every open item to `successor` (default: the department head) through the registered
    providers, end the user's sessions and keep the account for the record."""
    _require_user_scope(actor, user)
    if actor is not None and actor.pk == user.pk:
        raise OrgError("不能停用自己的账号。")
    _lock_user(user)
    if not user.is_active:
        raise OrgError("该用户已停用。")
    report = _hand_over(user, actor=actor, successor=successor)
    user.is_active = False
    user.disabled_at = timezone.now()
    user.session_epoch += 1
    user.save(update_fields=["is_active", "disabled_at", "session_epoch"])
    details = {"successor": report.successor and report.successor.pk, "moved": report.moved}
    record("org.user.disable", actor=actor, obj=user, details=details)
    emit("org.user.changed", user, payload={"event": "disabled", **details})
    end_socket_sessions(user.pk)
    return report


@transaction.atomic
def enable_user(user: User, *, actor: Any) -> User:
    _require_user_scope(actor, user)
    _lock_user(user)
    if user.is_active:
        raise OrgError("该用户未被停用。")
    user.is_active = True
    user.disabled_at = None
    user.save(update_fields=["is_active", "disabled_at"])
    record("org.user.enable", actor=actor, obj=user)
    emit("org.user.changed", user, payload={"event": "enabled"})
    return user


@transaction.atomic
def transfer_user(
    user: User,
    *,
    actor: Any,
    department: Department,
    position: Position | None = None,
    successor: User | None = None,
) -> HandoverReport:
    """调动: the user's open work stays with the old post (to `successor` or the old department's head);
    the user moves to `department`, and roles tied to the old department (or old agency) end."""
    _require_user_scope(actor, user)
    _require_scope(actor, department.agency_id)
    _lock_user(user)
    if not user.is_active:
        raise OrgError("已停用的用户不能调动。")
    if department.pk == user.department_id:
        raise OrgError("新部门与当前部门相同。")
    old_department = user.department
    report = _hand_over(user, actor=actor, successor=successor, department=old_department)
    ended = RoleGrant.objects.filter(user=user, department=old_department)
    if old_department is not None and old_department.agency_id != department.agency_id:
        ended = ended | RoleGrant.objects.filter(user=user, agency_id=old_department.agency_id)
    ended_roles = sorted(set(ended.values_list("role", flat=True)))
    ended.delete()
    user.department = department
    fields = ["department"]
    if position is not None:
        user.position = position
        fields.append("position")
    user.save(update_fields=fields)
    ConcurrentPost.objects.filter(user=user, department=department).delete()
    # The grants cached on this object (officeapp.access.grants_of) no longer hold.
    user.__dict__.pop("_officeapp_grants", None)
    details = {
        "from_department": old_department and old_department.pk,
        "to_department": department.pk,
        "successor": report.successor and report.successor.pk,
        "moved": report.moved,
        "ended_roles": ended_roles,
    }
    record("org.user.transfer", actor=actor, obj=user, details=details)
    emit("org.user.changed", user, payload={"event": "transferred", **details})
    return report


def generate_initial_password() -> str:
    """A random password for a new, imported or reset account: 14 characters of letters, digits and
    symbols (about 80 bits), which the user must change at first sign-in."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(12))
        if (
            any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
        ):
            return f"{body[:6]}-{body[6:]}!"


@transaction.atomic
def reset_password(user: User, *, actor: Any) -> str:
    """重置密码: a new random password, shown once to the administrator; the user must change it at
    the next sign-in and every open session of the user ends."""
    _require_user_scope(actor, user)
    password = generate_initial_password()
    user.set_password(password)
    user.must_change_password = True
    user.session_epoch += 1
    user.save(update_fields=["password", "must_change_password", "session_epoch"])
    record("org.user.reset_password", actor=actor, obj=user)
    emit("org.user.changed", user, payload={"event": "password_reset"})
    # Sockets opened with the old password belong to the sessions that just ended.
    end_socket_sessions(user.pk)
    return password
