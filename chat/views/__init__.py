"""Chat pages and the JSON the conversation page talks to (mounted by chat/urls.py).

Every view is thin: parse (chat.forms) → look up through chat.access → one chat.services call (or one
chat.history read) → render or JSON. A page answers the same 404 for a conversation that does not
exist and one the user is not (or no longer) a member of; the 审计管理员 never chats (403 on the
pages that name no conversation)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse, QueryDict

from chat import access

# The JSON of the conversation page carries the member list (mentions, receipts) up to this size.
MEMBERS_ON_PAGE_MAX = 600


def require_chatter(request: HttpRequest) -> None:
    """Pages that name no conversation: only people who chat (not the 审计管理员) get them."""
    if not access.may_chat(request.user):
        raise PermissionDenied("审计管理员不使用即时通讯。")


def wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def posted_data(request: HttpRequest) -> QueryDict | dict[str, Any]:
    """The POSTed fields, from a JSON body (the page's script) or a form (no script)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST


def refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def form_error(form: Any) -> str:
    """The first refusal of a form, as the one sentence the page shows."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "提交的内容无效。"
