"""Top navigation: 工作台 and 通讯录 for everyone, administration pages by role (三员 see only theirs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from officeapp import access
from officeapp.calendar.access import can_manage_calendar
from officeapp.org.access import is_org_admin
from officeapp.registries import nav_entries


@dataclass(frozen=True)
class NavEntry:
    """What a higher app registers in `nav_entries`: shown to users for whom `visible` is true."""

    label: str
    url_name: str
    order: int = 100
    visible: Callable[[Any], bool] = lambda user: True
    # A count shown beside the label (消息: unread messages); one cheap query, or None for no badge.
    badge: Callable[[Any], int | None] | None = None


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool
    badge: int | None = None


def _item(request: HttpRequest, label: str, name: str, badge: NavEntry | None = None) -> NavItem | None:
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    count = badge.badge(request.user) if badge is not None and badge.badge is not None else None
    active = request.path == url or (url != "/" and request.path.startswith(url))
    return NavItem(label, url, active, count or None)


def nav_for(request: HttpRequest) -> list[NavItem]:
    user = request.user
    names: list[tuple[str, str] | tuple[str, str, NavEntry]] = [
        ("工作台", "workbench:home"),
        ("通讯录", "org:directory"),
    ]
    for entry in sorted(nav_entries.values(), key=lambda e: (e.order, e.label)):
        if entry.visible(user):
            names.append((entry.label, entry.url_name, entry))
    if is_org_admin(user):
        names += [("组织管理", "org:manage")]
    if can_manage_calendar(user):
        # The holiday table is the 系统管理员's alone: an agency administrator would only meet a 403.
        names += [("工作日历", "calendar:manage")]
    if access.is_security_admin(user):
        names += [("安全策略", "accounts:security")]
    if access.is_audit_admin(user):
        # 审计管理员 reads the audit log and nothing else: no 通讯录 work, no org pages.
        names = [("审计日志", "audit:events")]
    return [i for i in (_item(request, *spec) for spec in names) if i]
