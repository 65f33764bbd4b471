"""System checks of the accounts app (ids officeapp.E010…)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError


@register(Tags.security)
def check_no_active_superuser(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """三员分立 leaves no place for an all-powerful account outside development."""
    if settings.DEBUG:
        return []
    from officeapp.org.models import User

    try:
        names = list(
            User.objects.filter(is_superuser=True, is_active=True).values_list("username", flat=True)[:5]
        )
    except DatabaseError:
        # Before the first migrate there is no user table, hence no superuser.
        return []
    if not names:
        return []
    return [
        Error(
            f"存在启用的超级用户（{', '.join(names)}）：生产环境实行三员分立，不允许超级用户。",
            hint="停用这些账号（is_active=False）或取消其超级用户标记；用 manage.py bootstrap_admins 创建三员管理员。",
            id="officeapp.E010",
        )
    ]
