"""事件订阅 pages, for whoever manages the app (officeapp.integration.access): its subscriptions (add,
pause/resume, rotate the secret, delete), its deliveries with a status filter, one delivery's attempts,
and 重新投递. Each POST calls one webhook_services verb; a refused form re-renders with what was typed.
A secret appears only in the answer to the POST that made it (no-store)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from officeapp.integration import access, webhook_services
from officeapp.integration.events import EVENTS
from officeapp.integration.models import App, DeliveryStatus, WebhookDelivery, WebhookSubscription
from officeapp.integration.webhook_services import Acting, WebhookError
from officeapp.integration.webhooks import BACKOFF_SECONDS, MAX_ATTEMPTS

DELIVERIES_PER_PAGE = 50
MSG_NOT_MANAGER = "只有系统管理员或单位管理员可以管理应用的事件订阅。"


class SubscriptionForm(forms.Form):
    url = forms.URLField(
        label="接收地址",
        max_length=500,
        assume_scheme="https",
        help_text="平台向该地址以 POST 发送 JSON，并附 HMAC-SHA256 签名。",
        error_messages={"required": "请填写接收地址。", "invalid": "请输入有效的网址。"},
    )
    events = forms.MultipleChoiceField(
        label="订阅事件",
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个事件。", "invalid_choice": "未知的事件。"},
    )


def _app(request: HttpRequest, app_id: int) -> App:
    """403 for who manages no app at all (the wrong role), 404 for an app that is missing or another's."""
    if not access.may_manage_any(request.user):
        raise PermissionDenied(MSG_NOT_MANAGER)
    return access.get_app_for(request.user, app_id)


def _subscription(app: App, subscription_id: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription.objects.select_related("app"), app=app, pk=subscription_id)


def _delivery(app: App, delivery_id: int) -> WebhookDelivery:
    return get_object_or_404(
        WebhookDelivery.objects.select_related("subscription__app"), subscription__app=app, pk=delivery_id
    )


def _subscriptions_page(
    request: HttpRequest, app: App, form: SubscriptionForm, status: int = 200
) -> HttpResponse:
    subscriptions = list(app.webhooks.order_by("id"))
    return render(
        request,
        "integration/webhooks/subscriptions.html",
        {
            "app": app,
            "form": form,
            "subscriptions": [
                {"sub": s, "labels": [EVENTS.get(e, e) for e in s.events]} for s in subscriptions
            ],
            "page_title": f"{app.name} · 事件订阅",
        },
        status=status,
    )


def _secret_page(
    request: HttpRequest, app: App, subscription: WebhookSubscription, secret: str
) -> HttpResponse:
    response = render(
        request,
        "integration/webhooks/secret.html",
        {"app": app, "sub": subscription, "secret": secret, "page_title": "事件订阅的签名密钥"},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def subscriptions(request: HttpRequest, app_id: int) -> HttpResponse:
    app = _app(request, app_id)
    return _subscriptions_page(request, app, SubscriptionForm())


@require_POST
@login_required
def subscribe(request: HttpRequest, app_id: int) -> HttpResponse:
    app = _app(request, app_id)
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            sub, secret = webhook_services.subscribe(
                app,
                acting=Acting(user=request.user),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except WebhookError as exc:
            form.add_error(None, exc.message)
        else:
            return _secret_page(request, app, sub, secret)
    return _subscriptions_page(request, app, form, status=400)


@require_POST
@login_required
def rotate(request: HttpRequest, app_id: int, subscription_id: int) -> HttpResponse:
    app = _app(request, app_id)
    sub = _subscription(app, subscription_id)
    secret = webhook_services.rotate_webhook_secret(sub, acting=Acting(user=request.user))
    return _secret_page(request, app, sub, secret)


@require_POST
@login_required
def pause(request: HttpRequest, app_id: int, subscription_id: int) -> HttpResponse:
    app = _app(request, app_id)
    sub = _subscription(app, subscription_id)
    webhook_services.set_subscription_active(sub, acting=Acting(user=request.user), active=False)
    messages.success(request, "已暂停：新事件仍会记录，恢复后依次投递。")
    return redirect("webhooks:app", app.pk)


@require_POST
@login_required
def resume(request: HttpRequest, app_id: int, subscription_id: int) -> HttpResponse:
    app = _app(request, app_id)
    sub = _subscription(app, subscription_id)
    webhook_services.set_subscription_active(sub, acting=Acting(user=request.user), active=True)
    messages.success(request, "已恢复投递。")
    return redirect("webhooks:app", app.pk)


@require_POST
@login_required
def delete(request: HttpRequest, app_id: int, subscription_id: int) -> HttpResponse:
    app = _app(request, app_id)
    sub = _subscription(app, subscription_id)
    webhook_services.unsubscribe(sub, acting=Acting(user=request.user))
    messages.success(request, "已删除该订阅。")
    return redirect("webhooks:app", app.pk)


@require_GET
@login_required
def deliveries(request: HttpRequest, app_id: int) -> HttpResponse:
    app = _app(request, app_id)
    status = request.GET.get("status", "")
    rows = WebhookDelivery.objects.filter(subscription__app=app).select_related("subscription")
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    subscription = request.GET.get("subscription", "")
    if subscription.isdigit():
        rows = rows.filter(subscription_id=int(subscription))
    else:
        subscription = ""
    page = Paginator(rows.order_by("-id"), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "integration/webhooks/deliveries.html",
        {
            "app": app,
            "page": page,
            "rows": [{"d": d, "label": EVENTS.get(d.event_type, d.event_type)} for d in page],
            "status": status,
            "subscription": subscription,
            "statuses": DeliveryStatus.choices,
            "page_title": f"{app.name} · 投递记录",
        },
    )


@require_GET
@login_required
def delivery(request: HttpRequest, app_id: int, delivery_id: int) -> HttpResponse:
    app = _app(request, app_id)
    found = _delivery(app, delivery_id)
    return render(
        request,
        "integration/webhooks/delivery.html",
        {
            "app": app,
            "delivery": found,
            "event_label": EVENTS.get(found.event_type, found.event_type),
            "attempts": found.attempt_log.select_related("replayed_by"),
            "can_replay": found.status != DeliveryStatus.PENDING,
            "payload_json": json.dumps(found.payload, ensure_ascii=False, indent=2),
            "max_attempts": MAX_ATTEMPTS,
            "backoff": BACKOFF_SECONDS,
            "page_title": f"投递 #{found.pk}",
        },
    )


@require_POST
@login_required
def replay(request: HttpRequest, app_id: int, delivery_id: int) -> HttpResponse:
    app = _app(request, app_id)
    found = _delivery(app, delivery_id)
    try:
        webhook_services.replay(found, acting=Acting(user=request.user))
    except WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新排队，将在数秒内投递。")
    return redirect("webhooks:delivery", app.pk, found.pk)
