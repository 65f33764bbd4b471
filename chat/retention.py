"""消息保存期限: how long chat messages keep their content, set by the 安全管理员.

`days` = 0 keeps everything. Otherwise the daily job ("chat.retention") empties every message older
than that: text, caption, file and thumbnail, @mentions, forwarded origin — the row stays (seq
keeps no gap, read state stays right) with `purged_at` set, and the client shows
"消息已过保存期限" in its place. The files stop being referenced by chat; the blob store's own
retention job then removes those no other referrer holds.

The job works in bounded batches (BATCH rows per UPDATE, MAX_BATCHES per run), oldest first, and is
idempotent: a purged message is not selected again, a run that stops half-way leaves only whole
batches done. It finds the next batch by "created_at < cutoff and purged_at is null", oldest first;
the partial index on created_at where purged_at is null (docs/decisions.md, chat retention) keeps
that query from walking the rows already purged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat import access
from chat.errors import ChatError
from chat.models import ChatRetention, Message
from officeapp.audit.services import record
from officeapp.outbox.services import emit
from officeapp.worker.schedules import Schedule

logger = logging.getLogger(__name__)

RETENTION_SCHEDULE = Schedule("chat.retention", "chat.retention.purge_expired_job", seconds=24 * 60 * 60)
BATCH = 2000
MAX_BATCHES = 50
# Ten years: beyond that the 安全管理员 means "for ever", which is 0.
MAX_DAYS = 3650


def current_retention() -> ChatRetention:
    """The one setting (created on first use, keeping everything)."""
    setting = ChatRetention.objects.order_by("pk").first()
    if setting is None:
        setting = ChatRetention.objects.create(days=0)
    return setting


def set_retention(*, actor: Any, days: int) -> ChatRetention:
    """The 安全管理员 sets how many days messages keep their content (0: for ever)."""
    if not access.can_set_retention(actor):
        raise ChatError("只有安全管理员可以设置消息保存期限。")
    if days < 0 or days > MAX_DAYS:
        raise ChatError(f"保存天数应在 0 到 {MAX_DAYS} 之间（0 表示永久保存）。")
    with transaction.atomic():
        setting = current_retention()
        setting = ChatRetention.objects.select_for_update().get(pk=setting.pk)
        previous = setting.days
        setting.days = days
        setting.updated_at = timezone.now()
        setting.updated_by = actor
        setting.save(update_fields=["days", "updated_at", "updated_by"])
        record("chat.retention.set", actor=actor, obj=setting, details={"days": days, "previous": previous})
    return setting


def _purge_batch(cutoff: datetime, now: datetime) -> int:
    """Empty the next BATCH expired messages in one UPDATE; returns how many."""
    candidates = Message.objects.filter(created_at__lt=cutoff, purged_at__isnull=True)
    with transaction.atomic():
        ids = list(candidates.order_by("created_at", "pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return 0
        # The same fields chat.services.purge_message empties, for a whole batch at once.
        count = Message.objects.filter(pk__in=ids, purged_at__isnull=True).update(
            body="",
            data={},
            blob=None,
            thumbnail=None,
            file_name="",
            file_size=None,
            mentions=[],
            mention_all=False,
            origin_sender_name="",
            origin_conversation_name="",
            purged_at=now,
        )
        # The search index drops what it held of these messages (one outbox row per batch).
        emit("chat.messages.purged", object_type="chat.message", object_id=ids[0], payload={"ids": ids})
    return count


def purge_expired(*, now: datetime | None = None, max_batches: int = MAX_BATCHES) -> int:
    """Empty the messages older than the retention setting, at most max_batches × BATCH per run."""
    days = current_retention().days
    if not days:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    total = 0
    for _ in range(max_batches):
        count = _purge_batch(cutoff, now)
        if not count:
            break
        total += count
    if total:
        record("chat.retention.purge", details={"days": days, "count": total, "cutoff": cutoff.isoformat()})
    return total


def purge_expired_job() -> str:
    """The worker's daily run; returns its one-line summary for the task log."""
    count = purge_expired()
    summary = f"消息保存期限：清除 {count} 条过期消息的内容"
    logger.info("%s", summary)
    return summary


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
    from chat.demo import build_chat_demo
    from officeapp.registries import demo_builders, worker_schedules

    worker_schedules.register(RETENTION_SCHEDULE.name, RETENTION_SCHEDULE)
    # load_demo: conversations of the demo accounts, after the flows' demo data.
    demo_builders.register("60-chat", build_chat_demo)
