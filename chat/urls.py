"""Chat URLs (namespace "chat", mounted at /chat/). The file and thumbnail paths are literal in
chat.frames (/chat/m/<id>/file/, /chat/m/<id>/thumbnail/): keep them in step."""

from __future__ import annotations

from django.urls import URLPattern, path

from chat.urls_admin import urlpatterns as admin_urlpatterns
from chat.views import conversations, group_settings, messages

app_name = "chat"

urlpatterns: list[URLPattern] = [
    path("", conversations.index, name="index"),
    path("start/<int:user_id>/", conversations.start, name="start"),
    path("groups/new/", conversations.new_group, name="new_group"),
    path("c/<int:conversation_id>/", conversations.conversation, name="conversation"),
    path("c/<int:conversation_id>/messages/", messages.messages, name="messages"),
    path("c/<int:conversation_id>/files/", messages.upload, name="upload"),
    path("c/<int:conversation_id>/read/", messages.read, name="read"),
    path("c/<int:conversation_id>/search/", conversations.search, name="search"),
    path("c/<int:conversation_id>/context/<int:seq>/", conversations.context, name="context"),
    path("c/<int:conversation_id>/settings/", group_settings.group_settings, name="settings"),
    path("m/<int:message_id>/recall/", messages.recall, name="recall"),
    path("m/<int:message_id>/forward/", messages.forward, name="forward"),
    path("m/<int:message_id>/receipts/", messages.receipts, name="receipts"),
    path("m/<int:message_id>/file/", messages.file, name="file"),
    path("m/<int:message_id>/thumbnail/", messages.thumbnail, name="thumbnail"),
    *admin_urlpatterns,
]
