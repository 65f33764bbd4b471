"""Organisation services: every change to agencies, departments and users goes through here."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from officeapp.audit.services import record
from officeapp.org.models import Agency, Department, Position, Role, RoleGrant, User
from officeapp.org.pinyin import pinyin_keys
from officeapp.outbox.services import emit


def _child_path(parent_path: str, pk: int) -> str:
    return f"{parent_path}{pk:07d}."


@transaction.atomic
def create_agency(*, actor: Any, name: str, level: str, code: str, parent: Agency | None = None,
                  short_name: str = "", number_prefix: str = "", sort_order: int = 0) -> Agency:
    agency = Agency.objects.create(name=name, level=level, code=code, parent=parent, short_name=short_name,
                                   number_prefix=number_prefix, sort_order=sort_order)
    agency.path = _child_path(parent.path if parent else "", agency.pk)
    agency.save(update_fields=["path"])
    record("org.agency.create", actor=actor, obj=agency)
    emit("org.agency.changed", agency)
    return agency


@transaction.atomic
def create_department(*, actor: Any, agency: Agency, name: str, code: str, parent: Department | None = None,
                      kind: str = Department.Kind.GENERAL, sort_order: int = 0, phone: str = "") -> Department:
    department = Department.objects.create(agency=agency, parent=parent, name=name, code=code, kind=kind,
                                           sort_order=sort_order, phone=phone)
    department.path = _child_path(parent.path if parent else "", department.pk)
    department.save(update_fields=["path"])
    record("org.department.create", actor=actor, obj=department)
    emit("org.department.changed", department)
    return department


@transaction.atomic
def create_user(*, actor: Any, username: str, real_name: str, department: Department | None,
                password: str | None = None, employee_no: str | None = None, mobile: str = "",
                email: str = "", position: Position | None = None, must_change_password: bool = False,
                sort_order: int = 0) -> User:
    full, initials = pinyin_keys(real_name)
    user = User(username=username, real_name=real_name, department=department, employee_no=employee_no,
                mobile=mobile, email=email, position=position, must_change_password=must_change_password,
                name_pinyin=full, name_initials=initials, sort_order=sort_order)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record("org.user.create", actor=actor, obj=user)
    emit("org.user.changed", user, payload={"event": "created"})
    return user


@transaction.atomic
def grant_role(*, actor: Any, user: User, role: str, agency: Agency | None = None,
               department: Department | None = None) -> RoleGrant:
    """Grant a role. 三员分立 is enforced by the partial unique index; the caller's access check
    (only the 安全管理员 grants roles) lives in the pages' services."""
    grant = RoleGrant.objects.create(user=user, role=role, agency=agency, department=department,
                                     granted_by=actor if getattr(actor, "is_authenticated", False) else None)
    record("org.role.grant", actor=actor, obj=user, details={"role": role, "agency": agency and agency.pk,
                                                              "department": department and department.pk})
    emit("org.user.changed", user, payload={"event": "role_granted", "role": role})
    return grant


ROLE_LABELS = dict(Role.choices)
