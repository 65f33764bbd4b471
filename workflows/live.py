"""Live inbox updates: after commit, tell each affected person's open tabs that a task appeared or
went away, so the inbox and the workbench's 待办 refresh without a reload."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group


def push_inbox_changed(user_ids: list[int], *, task_id: int, action: str, title: str) -> None:
    """Queue `inbox.changed` for each user (action "created" or "closed"); sent only on commit."""
    ids = sorted({uid for uid in user_ids if uid})
    if not ids:
        return
    frame = {"type": "inbox.changed", "task_id": task_id, "action": action, "title": title}
    frames = [(user_group(uid), {"type": "push", "frame": frame}) for uid in ids]
    transaction.on_commit(partial(send_to_groups, frames), robust=True)
