"""load_demo's "65-external-todos": the demo apps (行政审批系统, 财务报销系统, registered by the
integration demo "60-integration") push a few to-dos into the demo accounts' 待办, through the same
service the API uses, so the inbox and the 工作台 show external work beside our own tasks.

An app row that does not exist (the registry's demo did not run) gets nothing, and the summary says
so. The API's rule decides who may receive: people of the app's data agencies (its owner agency when
it has none). A to-do meant for a demo account outside that scope goes to one of the app's own
people instead (the first active ones of its agencies), so the demo never breaks the rule it shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from officeapp.integration.models import App
from officeapp.notify.api import users_for_app
from officeapp.org.models import User
from workflows.external_todos import push_todos

# (app name, external id, username, title, path on the app, urgency, deadline in days or None)
DEMO_TODOS: list[tuple[str, str, str, str, str, str, int | None]] = [
    (
        "行政审批系统",
        "XK-2026-0412",
        "lin.xiaomei",
        "审核：某科技公司高新技术企业认定申请",
        "approvals/0412",
        "urgent",
        2,
    ),
    (
        "行政审批系统",
        "XK-2026-0419",
        "chen.zhiqiang",
        "审批：广州市某区道路占用许可（处室意见）",
        "approvals/0419",
        "normal",
        5,
    ),
    (
        "行政审批系统",
        "XK-2026-0388",
        "zhou.jianguo",
        "签批：省级政务服务事项目录调整",
        "approvals/0388",
        "extra_urgent",
        -1,
    ),
    (
        "行政审批系统",
        "XK-2026-0431",
        "huang.lihua",
        "补正通知：某协会年检材料不全",
        "approvals/0431",
        "normal",
        None,
    ),
    (
        "财务报销系统",
        "BX-2026-1207",
        "lin.xiaomei",
        "报销单待确认：11 月赴深圳调研差旅费",
        "claims/1207",
        "normal",
        7,
    ),
    (
        "财务报销系统",
        "BX-2026-1195",
        "chen.zhiqiang",
        "报销审批：综合一处 11 月办公用品采购",
        "claims/1195",
        "urgent",
        1,
    ),
    (
        "财务报销系统",
        "BX-2026-1188",
        "li.guohua",
        "报销复核：省财政厅办公室培训费",
        "claims/1188",
        "normal",
        3,
    ),
]


def build_external_todos_demo(stdout: Any = None) -> str:
    apps = {app.name: app for app in App.objects.filter(name__in={row[0] for row in DEMO_TODOS})}
    if not apps:
        return "外部待办：演示应用（行政审批系统、财务报销系统）不存在，未推送外部待办。"
    today = timezone.localdate()
    pushed = 0
    missing = sorted({row[0] for row in DEMO_TODOS} - set(apps))
    for name, app in apps.items():
        agencies = app.reading_agency_ids()
        wanted = [row[2] for row in DEMO_TODOS if row[0] == name]
        in_scope = {n for n, u in users_for_app(app, wanted, agency_ids=agencies).items() if u.is_active}
        stand_ins = list(
            User.objects.filter(department__agency_id__in=agencies, is_active=True)
            .order_by("department__agency_id", "sort_order", "id")
            .values_list("username", flat=True)[:3]
        )
        items = []
        for n, (app_name, external_id, username, title, page, urgency, days) in enumerate(DEMO_TODOS):
            if app_name != name:
                continue
            if username not in in_scope:
                if not stand_ins:
                    continue
                username = stand_ins[n % len(stand_ins)]
            items.append(
                {
                    "external_id": external_id,
                    "user": username,
                    "title": title,
                    "url": app.url.rstrip("/") + "/" + page,
                    "urgency": urgency,
                    "deadline": (today + timedelta(days=days)).isoformat() if days is not None else None,
                }
            )
        pushed += sum(r.status in ("created", "updated") for r in push_todos(app, items))
    note = f"（{'、'.join(missing)} 不存在，未推送其待办）" if missing else ""
    return f"外部待办：演示应用推送 {pushed} 条待办{note}。"
