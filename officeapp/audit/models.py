"""The append-only, hash-chained audit log.

Rows are written unchained inside the service's transaction (no lock shared by the province);
a worker job chains committed rows per chain (one per agency, plus one for the platform) within
seconds. See officeapp/audit/chain.py and docs/decisions.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A registered app (issue 10) acts under its own label; also the snapshot of a user's name.
    actor_label = models.CharField("操作者", max_length=120, blank=True)
    client_address = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象", max_length=64, blank=True)
    outcome = models.CharField("结果", max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    # ids and kinds only: never document or message text, never a secret-ballot choice.
    details = models.JSONField("详情", default=dict, blank=True)
    chain = models.CharField("链", max_length=32, default="platform", db_index=True)
    # Filled once by the chaining job; the PostgreSQL trigger refuses any other UPDATE and all DELETEs.
    chain_seq = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["chain", "chain_seq"], name="audit_chain_seq_idx"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The chaining job looks only at rows not yet chained; a partial index keeps that lookup
            # the size of the backlog, not of the table.
            models.Index(fields=["chain", "id"], condition=models.Q(row_hash=""), name="audit_unchained_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_chain_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.action}#{self.pk}"

    @property
    def details_pairs(self) -> list[tuple[str, object]]:
        # A list, not the dict: a template's `details.items` would read a detail named "items".
        return sorted(self.details.items()) if isinstance(self.details, dict) else [("", self.details)]


GENESIS_HASH = "0" * 64


class AuditChainHead(models.Model):
    """The end of one chain: its last sequence number and hash.

    The chaining job locks this row (SELECT ... FOR UPDATE) so that one chainer at a time extends a
    chain, while chainers of other chains and every writer of AuditEvent rows go on unhindered. It
    also lets verify_audit notice rows deleted from the end of a chain.
    """

    chain = models.CharField("链", max_length=32, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "审计链"
        verbose_name_plural = "审计链"

    def __str__(self) -> str:
        return f"{self.chain}#{self.last_seq}"
