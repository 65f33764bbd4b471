"""Chat over the one socket /ws/: what services push after commit, and the socket handlers.

publish(conversation_id, frame) serialises the frame once and sends ONE layer message to the
conversation's group `chat.c.<id>`; each daphne process holding sockets of that conversation has
joined that group with one process channel (chat.hub) and writes the same text to each of them.
publish_to_users(user_ids, frame) reaches people through their own groups `user.<id>` (a "push"),
for news about a conversation they are not subscribed to (added, removed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"chat.c.{int(conversation_id)}"


def serialise(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def fanout_event(conversation_id: int, frame: dict[str, Any]) -> dict[str, Any]:
    """The one layer message of a frame: its text, and the seq the hubs order and de-duplicate by
    (only new messages carry one; a recall re-sends an old message and must not be dropped)."""
    seq = None
    if frame.get("type") == "chat.message":
        seq = int(frame["message"]["seq"])
    return {"type": "chat.fanout", "conversation": int(conversation_id), "seq": seq, "text": serialise(frame)}


def publish(conversation_id: int, frame: dict[str, Any]) -> None:
    """Send a frame to every subscribed socket of the conversation (call from on_commit)."""
    send_to_groups([(conversation_group(conversation_id), fanout_event(conversation_id, frame))])


def publish_to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    """Send a frame to every socket of each user, subscribed or not (call from on_commit)."""
    send_to_groups([(user_group(int(uid)), {"type": "push", "frame": frame}) for uid in user_ids])


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
