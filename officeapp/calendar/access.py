"""Who may do what with the working-day calendar: reading is everyone's (deadlines use it),
maintaining it is the 系统管理员's."""

from __future__ import annotations

from typing import Any

from officeapp.access import is_system_admin


def can_manage_calendar(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and is_system_admin(user)
