"""What the conversation page asks and sends: pages of history, sending text and files, read state,
recall, forward, read receipts, and the access-checked file and thumbnail downloads.

A refused send answers 400 with {"error": "<中文>"}; the page shows the sentence and does not retry
(it retries only when no answer came, with the same client_id, so a retry never shows twice)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import access, history, services
from chat.errors import ChatError
from chat.forms import BeforeAfterForm, ForwardForm, ReadForm, SendForm, UploadForm
from chat.frames import message_frame
from chat.models import Message
from chat.views import form_error, posted_data, refused, wants_json
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import sanitise_name
from officeapp.blobs.services import open_blob

HISTORY_PAGE = 50
CATCH_UP_PAGE = 200


@require_http_methods(["GET", "POST"])
@login_required
def messages(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    if request.method == "GET":
        query = BeforeAfterForm(request.GET)
        if not query.is_valid():
            return refused("消息位置无效。")
        if query.cleaned_data["after"] is not None:
            rows, more = history.messages_after(membership, query.cleaned_data["after"], CATCH_UP_PAGE)
        else:
            rows, more = history.messages_before(membership, query.cleaned_data["before"], HISTORY_PAGE)
        floor = membership.joined_seq
        return JsonResponse({"messages": [message_frame(m, hide_before=floor) for m in rows], "more": more})

    form = SendForm(posted_data(request))
    as_json = wants_json(request)
    if not form.is_valid():
        return _refuse_send(request, conversation_id, form_error(form), as_json)
    data = form.cleaned_data
    reply_to = None
    if data["reply_to"] is not None:
        reply_to = access.visible_messages(membership).filter(pk=data["reply_to"]).first()
        if reply_to is None:
            return _refuse_send(request, conversation_id, "引用的消息不存在。", as_json)
    try:
        message = services.send_text(
            membership.conversation,
            actor=request.user,
            body=data["body"],
            client_id=data["client_id"],
            reply_to=reply_to,
            mentions=data["mentions"],
            mention_all=data["mention_all"],
        )
    except ChatError as exc:
        return _refuse_send(request, conversation_id, exc.message, as_json)
    if as_json:
        return JsonResponse({"message": message_frame(message)})
    return redirect("chat:conversation", conversation_id=conversation_id)


def _refuse_send(request: HttpRequest, conversation_id: int, message: str, as_json: bool) -> HttpResponse:
    if as_json:
        return refused(message)
    flash.error(request, message)
    return redirect("chat:conversation", conversation_id=conversation_id)


@require_POST
@login_required
def upload(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return refused(form_error(form))
    try:
        message = services.send_file(
            membership.conversation,
            actor=request.user,
            upload=form.cleaned_data["file"],
            client_id=form.cleaned_data["client_id"] or None,
            caption=form.cleaned_data["caption"],
        )
    except ChatError as exc:
        return refused(exc.message)
    return JsonResponse({"message": message_frame(message)})


@require_POST
@login_required
def read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = access.get_membership_for(request.user, conversation_id)
    form = ReadForm(posted_data(request))
    if not form.is_valid():
        return refused(form_error(form))
    try:
        updated = services.mark_read(
            membership.conversation, actor=request.user, seq=form.cleaned_data["seq"]
        )
    except ChatError as exc:
        return refused(exc.message)
    return JsonResponse({"seq": updated.last_read_seq})


@require_POST
@login_required
def recall(request: HttpRequest, message_id: int) -> HttpResponse:
    message = access.get_message_for(request.user, message_id)
    try:
        recalled = services.recall(message, actor=request.user)
    except ChatError as exc:
        if wants_json(request):
            return refused(exc.message)
        flash.error(request, exc.message)
        return redirect("chat:conversation", conversation_id=message.conversation_id)
    if wants_json(request):
        floor = message.membership.joined_seq  # type: ignore[attr-defined]
        return JsonResponse({"message": message_frame(recalled, hide_before=floor)})
    return redirect("chat:conversation", conversation_id=message.conversation_id)


# The 转发 page lists this many conversations (latest first); the search box finds any other.
FORWARD_CHOICES = 100


@require_http_methods(["GET", "POST"])
@login_required
def forward(request: HttpRequest, message_id: int) -> HttpResponse:
    """转发: choose one of one's conversations; the copy keeps who wrote it and where."""
    message = access.get_message_for(request.user, message_id)
    if message.is_recalled or message.purged_at is not None or message.sender_id is None:
        raise Http404(NOT_FOUND_MESSAGE)
    form = ForwardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            target = access.get_conversation_for(request.user, form.cleaned_data["to"])
            services.forward(
                message, target, actor=request.user, client_id=form.cleaned_data["client_id"] or None
            )
        except Http404:
            form.add_error("to", "请选择要转发到的会话。")
        except ChatError as exc:
            form.add_error(None, exc.message)
        else:
            flash.success(request, "已转发。")
            return redirect("chat:conversation", conversation_id=target.pk)
    q = (request.GET.get("q") or "").strip()[: history.SEARCH_QUERY_MAX_CHARS]
    rows = history.conversation_rows(request.user, limit=FORWARD_CHOICES, name_contains=q)
    return render(
        request,
        "chat/forward.html",
        {
            "page_title": "转发消息",
            "q": q,
            "limit": FORWARD_CHOICES,
            "message": message,
            "frame": message_frame(message, hide_before=message.membership.joined_seq),  # type: ignore[attr-defined]
            "rows": [r for r in rows if not r["dissolved"]],
            "form": form,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_GET
@login_required
def receipts(request: HttpRequest, message_id: int) -> HttpResponse:
    """Who of the members has and has not read the message (the sender's "N人未读")."""
    message = access.get_message_for(request.user, message_id)
    lists = history.read_receipts(message)
    if wants_json(request):
        return JsonResponse(
            {
                which: [{"id": u.pk, "name": u.real_name or u.username} for u in users]
                for which, users in lists.items()
            }
        )
    return render(
        request,
        "chat/receipts.html",
        {"page_title": "已读情况", "message": message, "read": lists["read"], "unread": lists["unread"]},
    )


def _stream(request: HttpRequest, message: Message, *, thumbnail: bool) -> HttpResponse:
    blob = history.thumbnail_blob_for(message) if thumbnail else history.file_blob_for(message)
    if blob is None:
        raise Http404(NOT_FOUND_MESSAGE)
    try:
        chunks = open_blob(blob)  # opened first: a missing blob is a 404, not an audited download
    except BlobStoreUnavailable as exc:
        return render(request, "blobs/unavailable.html", {"message": exc.message}, status=503)
    except BlobMissing:
        return render(
            request, "blobs/unavailable.html", {"message": "文件内容已丢失，请联系系统管理员。"}, status=404
        )
    if not thumbnail:
        services.record_download(message, actor=request.user)
    response = StreamingHttpResponse(chunks, content_type=blob.content_type)
    response["Content-Length"] = str(blob.size)
    name = sanitise_name(message.file_name) or "file"
    response["Content-Disposition"] = content_disposition_header(not thumbnail, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A file opened directly must never run as part of our origin (an HTML or SVG someone slipped in).
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@login_required
def file(request: HttpRequest, message_id: int) -> HttpResponse:
    return _stream(request, access.get_message_for(request.user, message_id), thumbnail=False)


@require_GET
@login_required
def thumbnail(request: HttpRequest, message_id: int) -> HttpResponse:
    return _stream(request, access.get_message_for(request.user, message_id), thumbnail=True)
