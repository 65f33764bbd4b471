"""The webhooks' part of `load_demo` ("62-webhooks", after the apps of "60-integration").

The demo's 行政审批系统 subscribes to the directory's events and the 财务报销系统 to documents
distributed to the 省财政厅, through webhook_services like any manager would (audited). Their addresses
are the apps' example hosts, which do not answer: the deliveries that the demo's later changes make
are retried with backoff and end as 投递失败 — which is what the 投递记录 page and 重新投递 show.
Secrets are never printed; a demo user rotates one on the 事件订阅 page to see it.

The "webhooks" outbox cursor is first brought up to date, so the province's own creation (thousands of
org rows) is not sent to the new subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from officeapp.integration.models import App, WebhookSubscription
from officeapp.integration.webhook_services import Acting, subscribe
from officeapp.org.models import User

SUBSCRIPTIONS = {
    "行政审批系统": (
        "https://xzsp.gd.example/officeapp/events",
        ["user.created", "user.changed", "user.disabled", "department.changed"],
    ),
    "财务报销系统": ("https://cwbx.gd.example/hooks/officeapp", ["document.distributed"]),
}


def build(stdout: Callable[[str], Any]) -> str:
    from officeapp.integration.webhooks import CONSUMER
    from officeapp.outbox.drain import drain

    if WebhookSubscription.objects.exists():
        return "事件订阅：演示订阅已存在，未重复生成。"
    admin = User.objects.filter(username="sysadmin").first()
    apps = {a.name: a for a in App.objects.filter(name__in=SUBSCRIPTIONS)}
    if admin is None or not apps:
        return "事件订阅：没有演示应用，未生成订阅。"
    drain(CONSUMER)
    made = []
    for name, (url, events) in SUBSCRIPTIONS.items():
        app = apps.get(name)
        if app is None:
            continue
        subscribe(app, acting=Acting(user=admin), url=url, events=events)
        made.append(f"{name}（{len(events)} 类事件）")
    return f"事件订阅：{'、'.join(made)}；在 应用管理 → 应用 → 事件订阅 查看投递记录。"
