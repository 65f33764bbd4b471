"""The integration platform's part of `load_demo` ("60-integration"), through officeapp.integration.services
so the audit log and the outbox see it like any other registration.

Registered by the demo 系统管理员 (sysadmin, province-wide: manages every app):
- 行政审批系统 of 省政务服务数据管理局, visible to everyone in the province (its visible agency is the
  province's top agency), granted the directory and to-do scopes;
- 财务报销系统 of 省财政厅, visible to the 省财政厅's own people (no visibility set), granted to-dos and
  notifications;
- 人事管理系统 of 省府办公厅, registered and then suspended.
Client ids are printed; secrets never are (they are shown once at registration): a demo user rotates
one on the app's page (应用管理 → the app → 更换接口密钥) to get a secret to try.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from officeapp.integration import services
from officeapp.integration.models import App
from officeapp.org.models import Agency, User

APPS = ("行政审批系统", "财务报销系统", "人事管理系统")


def build(stdout: Callable[[str], Any]) -> str:
    if App.objects.filter(name=APPS[0]).exists():
        return "应用集成：演示应用已存在，未重复生成。"
    admin = User.objects.filter(username="sysadmin").first()
    province = Agency.objects.filter(parent__isnull=True).order_by("path").first()
    if admin is None or province is None:
        raise RuntimeError("演示省份缺少应用集成演示所需的系统管理员或省级机关。")
    data_office = Agency.objects.get(short_name="省政务服务数据管理局")
    finance = Agency.objects.get(short_name="省财政厅")
    gov_office = Agency.objects.get(short_name="省府办公厅")

    approval = services.register_app(
        admin,
        owner_agency=data_office,
        name=APPS[0],
        icon="批",
        description="全省行政审批事项的受理、审查与办结。",
        url="https://xzsp.gd.example/",
        redirect_uris=["https://xzsp.gd.example/oidc/callback"],
        post_logout_redirect_uris=["https://xzsp.gd.example/"],
        scopes=["directory.read", "todos.write", "notifications.write"],
        visible_agencies=[province],
        # Applicants' cases are handled by the agencies that approve them: the system pushes to-dos to
        # their people and reads their directories.
        data_agencies=[data_office, gov_office, finance],
        skip_consent=True,
    ).app
    reimburse = services.register_app(
        admin,
        owner_agency=finance,
        name=APPS[1],
        icon="报",
        description="省财政厅干部职工的差旅与日常费用报销。",
        url="https://cwbx.czt.gd.example/",
        redirect_uris=["https://cwbx.czt.gd.example/sso/callback"],
        scopes=["todos.write", "notifications.write"],
    ).app
    personnel = services.register_app(
        admin,
        owner_agency=gov_office,
        name=APPS[2],
        icon="人",
        description="办公厅干部人事档案与考勤（演示：已停用）。",
        url="https://rsgl.bgt.gd.example/",
        redirect_uris=["https://rsgl.bgt.gd.example/callback"],
        scopes=["directory.read"],
    ).app
    services.suspend_app(admin, personnel)

    for app in (approval, reimburse, personnel):
        state = "（已停用）" if app.pk == personnel.pk else ""
        stdout(
            f"  应用 {app.name}{state}：单点登录 client_id {app.sso_client.client_id}，"
            f"接口 client_id {app.service_client.client_id}"
        )
    stdout(
        "  应用密钥只在登记时显示一次；演示时以 sysadmin 登录，在 应用管理 → 应用 → 更换接口密钥 取得新密钥。"
    )
    return f"应用集成：已登记 {len(APPS)} 个演示应用（1 个已停用）。"


def register() -> None:
    from officeapp.registries import demo_builders

    demo_builders.register("60-integration", build)
