"""Permission-matrix entries for the 应用管理 pages (officeapp/integration/pages_urls.py).

`app_id` is an app of the 省府办公厅 without OAuth2 clients. Only the province-wide 系统管理员 manages
it (no cast member is a 单位管理员); the 安全管理员 and 审计管理员 read the list and its 调用记录 and get
the 404 of a stranger on its other pages; everyone else gets 403 on the pages that name no app and 404
on those that do. An empty rotate POST (no client chosen) and a resume of an active app go back to the
app's page with a message (302)."""

from __future__ import annotations

from typing import Any

MANAGER = {"anonymous": 302, "*": 404, "system_admin": 200}
LOG = {**MANAGER, "security_admin": 200, "audit_admin": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "integration:apps": (
        "get",
        {"anonymous": 302, "*": 403, "system_admin": 200, "security_admin": 200, "audit_admin": 200},
    ),
    "integration:new": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
    "integration:detail": ("get", MANAGER),
    "integration:edit": ("get", MANAGER),
    "integration:rotate": ("post", {**MANAGER, "system_admin": 302}),
    "integration:suspend": ("post", {**MANAGER, "system_admin": 302}),
    "integration:resume": ("post", {**MANAGER, "system_admin": 302}),
    "integration:calls": ("get", LOG),
}


def objects(cast: Any, core: dict[str, Any]) -> dict[str, Any]:
    from officeapp.integration.models import App

    app = App.objects.create(
        name="矩阵测试应用", url="https://matrix.example.test/", owner_agency=cast.gov_office
    )
    return {"app_id": app.pk}
