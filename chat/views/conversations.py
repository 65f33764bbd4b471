"""The conversation list, starting a chat (1:1 from a person, a group from people of any agency),
the conversation page and the search inside one conversation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import access, history, services
from chat.errors import ChatError
from chat.forms import NewGroupForm
from chat.frames import message_frame
from chat.models import MemberRole, Membership
from chat.views import MEMBERS_ON_PAGE_MAX, require_chatter
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.org.directory import DirectoryEntry, get_person, search_people
from officeapp.org.models import User

LIST_PAGE = 50
PEOPLE_PAGE = 20
QUERY_MAX = 50


def _offset(request: HttpRequest) -> int:
    raw = request.GET.get("offset", "")
    return min(int(raw), 100_000) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0


def _people(request: HttpRequest) -> tuple[str, list[DirectoryEntry]]:
    q = (request.GET.get("q") or "").strip()[:QUERY_MAX]
    return q, (search_people(request.user, q, limit=PEOPLE_PAGE) if q else [])


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_chatter(request)
    offset = _offset(request)
    rows = history.conversation_rows(request.user, limit=LIST_PAGE, offset=offset)
    q, people = _people(request)
    return render(
        request,
        "chat/index.html",
        {
            "page_title": "消息",
            "rows": rows,
            "q": q,
            "people": [p for p in people if not p.is_self],
            "next_offset": offset + LIST_PAGE if len(rows) == LIST_PAGE else None,
            "previous_offset": max(0, offset - LIST_PAGE) if offset else None,
        },
    )


@require_POST
@login_required
def start(request: HttpRequest, user_id: int) -> HttpResponse:
    """发消息: the 1:1 chat with this person (the existing one, or a new one)."""
    require_chatter(request)
    if get_person(request.user, user_id) is None:
        raise Http404(NOT_FOUND_MESSAGE)
    other = User.objects.get(pk=user_id)
    try:
        conversation = services.open_direct(other, actor=request.user)
    except ChatError as exc:
        messages.error(request, exc.message)
        return redirect("chat:index")
    return redirect("chat:conversation", conversation_id=conversation.pk)


@require_http_methods(["GET", "POST"])
@login_required
def new_group(request: HttpRequest) -> HttpResponse:
    """发起群聊: a name and people from any agency (picked from the 通讯录 search)."""
    require_chatter(request)
    # The picker's 查找 (no script) comes back as a GET carrying what was typed and picked so far.
    form = NewGroupForm(request.POST or None, initial={"name": request.GET.get("name", "")[:60]})
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.create_group(
                actor=request.user, name=form.cleaned_data["name"], members=form.cleaned_data["members"]
            )
        except ChatError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("chat:conversation", conversation_id=conversation.pk)
    q, found = _people(request)
    return render(
        request,
        "chat/new_group.html",
        {
            "page_title": "发起群聊",
            "form": form,
            "chosen": _chosen(request.POST if form.is_bound else request.GET),
            "q": q,
            "people": [p for p in found if not p.is_self],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _chosen(data: Any) -> list[User]:
    """The people already picked, when a form is re-rendered (ids that name no active user are dropped)."""
    ids = [v for v in data.getlist("members") if v.isascii() and v.isdigit() and len(v) < 12]
    found = User.objects.filter(pk__in=ids, is_active=True).select_related("department__agency").in_bulk()
    return [found[int(i)] for i in dict.fromkeys(ids) if int(i) in found]


def members_of(conversation_id: int) -> list[Membership]:
    """The current members (a group holds at most CHAT_GROUP_MAX_MEMBERS)."""
    return list(
        Membership.objects.filter(conversation_id=conversation_id, left_at__isnull=True)
        .select_related("user__department__agency")
        .order_by("-role", "user__real_name", "user_id")[:MEMBERS_ON_PAGE_MAX]
    )


@require_GET
@login_required
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    chat = membership.conversation
    page, more = history.messages_before(membership, None)
    members = members_of(chat.pk)
    name = chat.name
    if chat.is_direct:
        others = [m.user for m in members if m.user_id != request.user.pk]
        name = (others[0].real_name or others[0].username) if others else "单聊"
    state = {
        "conversation": chat.pk,
        "kind": chat.kind,
        "me": request.user.pk,
        "is_admin": access.can_manage(membership),
        "can_send": access.can_send(membership),
        "can_mention_all": access.can_mention_all(membership),
        "recall_window_seconds": int(access.RECALL_WINDOW.total_seconds()),
        "messages": [message_frame(m, hide_before=membership.joined_seq) for m in page],
        "more": more,
        "held_seq": page[-1].seq if page else membership.joined_seq,
        "last_read_seq": membership.last_read_seq,
        "members": [
            {
                "id": m.user_id,
                "name": m.user.real_name or m.user.username,
                "joined_seq": m.joined_seq,
                "last_read_seq": m.last_read_seq,
                "admin": m.role in (MemberRole.OWNER, MemberRole.ADMIN),
            }
            for m in members
        ],
        "urls": {
            "messages": reverse("chat:messages", args=[chat.pk]),
            "upload": reverse("chat:upload", args=[chat.pk]),
            "read": reverse("chat:read", args=[chat.pk]),
            "recall": reverse("chat:recall", args=[0]),
            "forward": reverse("chat:forward", args=[0]),
            "receipts": reverse("chat:receipts", args=[0]),
        },
    }
    return render(
        request,
        "chat/conversation.html",
        {
            "page_title": name,
            "chat": chat,
            "name": name,
            "membership": membership,
            "state": state,
            "can_send": state["can_send"],
            "file_max_mb": _megabytes(),
        },
    )


def _megabytes() -> int:
    from django.conf import settings

    return int(settings.CHAT_FILE_MAX_BYTES // (1024 * 1024))


@require_GET
@login_required
def search(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    q = (request.GET.get("q") or "").strip()[: history.SEARCH_QUERY_MAX_CHARS]
    found = history.search_in(membership, q) if q else []
    return render(
        request,
        "chat/search.html",
        {"page_title": "查找聊天记录", "chat": membership.conversation, "q": q, "found": found},
    )


@require_GET
@login_required
def context(request: HttpRequest, conversation_id: int, seq: int) -> HttpResponse:
    """查看上下文: a search result among the messages around it, the found one marked."""
    membership = access.get_membership_for(request.user, conversation_id)
    around = history.messages_around(membership, seq)
    if around is None:
        raise Http404(NOT_FOUND_MESSAGE)
    return render(
        request,
        "chat/context.html",
        {
            "page_title": "查看上下文",
            "chat": membership.conversation,
            "found_seq": seq,
            "q": (request.GET.get("q") or "").strip()[: history.SEARCH_QUERY_MAX_CHARS],
            "rows": [(m, message_frame(m, hide_before=membership.joined_seq)) for m in around],
        },
    )
