"""Notification pages: the list (keyset-paginated, so a long history costs nothing) and mark-read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from officeapp.notify import access, services

PAGE_SIZE = 20


def _show(request: HttpRequest) -> str:
    value = request.GET.get("show") or request.POST.get("show") or ""
    return "unread" if value == "unread" else "all"


def _panel_context(request: HttpRequest, show: str, before: int | None) -> dict[str, Any]:
    qs = (
        access.unread_notifications(request.user)
        if show == "unread"
        else access.visible_notifications(request.user)
    )
    qs = qs.order_by("-id")
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    unread = access.unread_count_for(request.user)
    return {
        "notifications": rows,
        "show": show,
        "before": before,
        "older_than": rows[-1].pk if has_older else None,
        "unread_count": unread,
        "unread_label": access.unread_label(unread),
        "page_title": "通知",
    }


def _list_url(show: str) -> str:
    url = reverse("notify:list")
    return f"{url}?show=unread" if show == "unread" else url


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    raw_before = request.GET.get("before", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses; a bad cursor shows the newest page.
    before = int(raw_before) if raw_before.isdecimal() else None
    return render(request, "notify/list.html", _panel_context(request, _show(request), before))


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = access.get_notification_for(request.user, notification_id)
    services.mark_read(notification, actor=request.user)
    if getattr(request, "htmx", False):
        return render(
            request,
            "notify/_item_swap.html",
            {"n": notification, "unread_label": access.unread_label(access.unread_count_for(request.user))},
        )
    return HttpResponseRedirect(_list_url(_show(request)))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    changed = services.mark_all_read(actor=request.user)
    show = _show(request)
    if getattr(request, "htmx", False):
        context = _panel_context(request, show, None)
        context["flash"] = f"已将 {changed} 条通知标为已读。" if changed else "没有未读通知。"
        return render(request, "notify/_panel_swap.html", context)
    messages.success(request, f"已将 {changed} 条通知标为已读。" if changed else "没有未读通知。")
    return HttpResponseRedirect(_list_url(show))
