"""群设置: rename, 群公告, add and remove members, set or unset admins, transfer ownership, leave,
dissolve, 免打扰 and 置顶. Each POST names its `action` and calls one service; a refusal re-renders the
page with what was typed and the Chinese sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from chat import access, services
from chat.errors import ChatError
from chat.forms import AddMembersForm, MemberForm, NoticeForm, RenameForm
from chat.models import Membership
from chat.views.conversations import _chosen, _people, members_of

ACTIONS = {
    "rename",
    "notice",
    "add",
    "remove",
    "admin",
    "unadmin",
    "transfer",
    "leave",
    "dissolve",
    "mute",
    "unmute",
    "pin",
    "unpin",
}


def _member(conversation_id: int, form: MemberForm) -> Any:
    """The chosen current member's user, or a form error."""
    found = (
        Membership.objects.filter(
            conversation_id=conversation_id, user_id=form.cleaned_data["user"], left_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    if found is None:
        form.add_error("user", "所选成员不在本群中。")
        return None
    return found.user


@require_http_methods(["GET", "POST"])
@login_required
def group_settings(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    chat = membership.conversation
    action = request.POST.get("action", "") if request.method == "POST" else ""
    bound: dict[str, forms.Form] = {}
    error = ""
    if request.method == "POST":
        if action not in ACTIONS:
            error = "未知的操作，请刷新页面后重试。"
        else:
            call, done, form = _action(request, chat, action)
            if form is not None:
                bound[action] = form
            if call is not None:
                try:
                    call()
                except ChatError as exc:
                    error = exc.message
                else:
                    messages.success(request, done)
                    if action in ("leave",):
                        return redirect("chat:index")
                    return redirect("chat:settings", conversation_id=chat.pk)
    membership = access.get_membership_for(request.user, conversation_id)
    chat = membership.conversation
    q, found = _people(request)
    add_form = bound.get("add") or AddMembersForm()
    context = {
        "page_title": "聊天设置",
        "chat": chat,
        "membership": membership,
        "members": members_of(chat.pk),
        "can_manage": access.can_manage(membership),
        "can_change_members": access.can_change_members(membership),
        "is_owner": access.is_owner(membership),
        "can_export": access.can_export(membership),
        "rename_form": bound.get("rename") or RenameForm(initial={"name": chat.name}),
        "notice_form": bound.get("notice") or NoticeForm(initial={"notice": chat.notice}),
        "add_form": add_form,
        "chosen": _chosen(request.POST if action == "add" else request.GET),
        "member_form_errors": [
            e
            for f in ("remove", "admin", "unadmin", "transfer")
            if f in bound
            for e in bound[f].errors.get("user", [])
        ],
        "error": error,
        "q": q,
        "people": [p for p in found if not p.is_self],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "chat/settings.html", context, status=status)


def _action(
    request: HttpRequest, chat: Any, action: str
) -> tuple[Callable[[], Any] | None, str, forms.Form | None]:
    """(the one service call, what to tell the user, the bound form) for a POSTed action."""
    actor = request.user
    if action == "rename":
        form: forms.Form = RenameForm(request.POST)
        if not form.is_valid():
            return None, "", form
        return (
            lambda: services.rename(chat, actor=actor, name=form.cleaned_data["name"]),
            "群名称已修改。",
            form,
        )
    if action == "notice":
        form = NoticeForm(request.POST)
        if not form.is_valid():
            return None, "", form
        return (
            lambda: services.set_notice(chat, actor=actor, notice=form.cleaned_data["notice"]),
            "群公告已更新。",
            form,
        )
    if action == "add":
        form = AddMembersForm(request.POST)
        if not form.is_valid():
            return None, "", form
        return (
            lambda: services.add_members(chat, form.cleaned_data["members"], actor=actor),
            "已添加成员。",
            form,
        )
    if action in ("remove", "admin", "unadmin", "transfer"):
        form = MemberForm(request.POST)
        if not form.is_valid():
            return None, "", form
        user = _member(chat.pk, form)  # type: ignore[arg-type]
        if user is None:
            return None, "", form
        calls: dict[str, tuple[Callable[[], Any], str]] = {
            "remove": (lambda: services.remove_member(chat, user, actor=actor), "已移出该成员。"),
            "admin": (lambda: services.set_admin(chat, user, actor=actor, admin=True), "已设为管理员。"),
            "unadmin": (lambda: services.set_admin(chat, user, actor=actor, admin=False), "已取消管理员。"),
            "transfer": (lambda: services.transfer_ownership(chat, user, actor=actor), "已转让群主。"),
        }
        call, done = calls[action]
        return call, done, form
    simple: dict[str, tuple[Callable[[], Any], str]] = {
        "leave": (lambda: services.leave(chat, actor=actor), "已退出该群。"),
        "dissolve": (lambda: services.dissolve(chat, actor=actor), "群已解散。"),
        "mute": (lambda: services.set_member_options(chat, actor=actor, muted=True), "已开启消息免打扰。"),
        "unmute": (lambda: services.set_member_options(chat, actor=actor, muted=False), "已关闭消息免打扰。"),
        "pin": (lambda: services.set_member_options(chat, actor=actor, pinned=True), "已置顶。"),
        "unpin": (lambda: services.set_member_options(chat, actor=actor, pinned=False), "已取消置顶。"),
    }
    call, done = simple[action]
    return call, done, None
