"""Hash-chaining of audit events, and its verification.

Why a job and not a hash computed by record(): a row's hash depends on the row before it, so
computing it at write time would make every writer of a chain wait for the previous writer's
commit. With one chain per agency that would still serialise every service call of a large agency.
Instead record() inserts rows unchained (no lock, no read of anything shared) and `chain_pending()`
— run by the worker every few seconds — extends each chain with the rows committed since.

Each chain (``agency:<id>`` or ``platform``) is a sequence 1, 2, 3 … of rows where
``row_hash = SHA-256(canonical(row, chain_seq, prev_hash))`` and ``prev_hash`` is the previous
row's ``row_hash`` (``GENESIS_HASH`` for the first). `verify_chain()` walks a chain in chain_seq
order and reports the first row that was edited, is missing, or does not link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from officeapp.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

# Rows younger than this are left for the next run, so that a transaction which took its id a
# little earlier but committed a little later than its neighbours usually still lands in id order.
SETTLE_SECONDS: float = 2.0
# Bounded work per run and per transaction: a backlog is worked off over several runs instead of
# one long transaction holding the chain's head.
BATCH_SIZE: int = 2000
MAX_ROWS_PER_RUN: int = 50_000

HASHED_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "client_address",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "chain",
    "chain_seq",
    "prev_hash",
    "row_hash",
)


def canonical(row: dict[str, Any], *, chain_seq: int, prev_hash: str) -> bytes:
    """The bytes a row's hash covers: every recorded field in a fixed order, details as JSON with
    sorted keys, times as UTC ISO 8601 with microseconds. The row id is left out on purpose: it
    says nothing the chain position does not, and leaving it out lets an archive be restored
    into fresh ids and still verify."""
    occurred_at: datetime = row["occurred_at"]
    payload = [
        occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        row["actor_id"],
        row["actor_label"],
        row["client_address"],
        row["action"],
        row["object_type"],
        row["object_id"],
        row["outcome"],
        row["details"],
        row["chain"],
        chain_seq,
        prev_hash,
    ]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def row_digest(row: dict[str, Any], *, chain_seq: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical(row, chain_seq=chain_seq, prev_hash=prev_hash)).hexdigest()


def pending_chains(*, settled_before: datetime | None = None) -> list[str]:
    """Chains that have unchained rows (served by the partial index audit_unchained_idx)."""
    pending = AuditEvent.objects.filter(row_hash="")
    if settled_before is not None:
        pending = pending.filter(occurred_at__lte=settled_before)
    # order_by(): the model's "-id" ordering would join the DISTINCT and return every pending row.
    return sorted(pending.order_by().values_list("chain", flat=True).distinct())


def chain_pending(settle_seconds: float = SETTLE_SECONDS, max_rows: int = MAX_ROWS_PER_RUN) -> int:
    """Chain the committed, not yet chained rows of every chain; return how many were chained.

    Registered as a worker schedule (officeapp.audit.apps). Idempotent: a second run finds nothing
    to do, and two runs at once never chain the same row (see `chain_one`).

    Rows committed out of id order. Ids come from a sequence when a row is inserted, but rows
    become visible when their transaction commits, so row 11 may be visible before row 10. Two
    things keep this harmless:

    1. Only rows at least `settle_seconds` old are taken, so a short transaction that took id 10
       just before id 11 has normally committed by the time either is chained, and chains follow
       id order in the common case.
    2. Rows are selected by "not yet chained" (``row_hash = ''``), never by "id greater than the
       last chained id". A row whose transaction ran longer than the settling time is simply
       chained in a later run, after rows with larger ids. Chain order is the order the chainer
       saw rows in; verification walks chain_seq, not id, so this is still a valid chain — and
       no committed row can be left behind forever, because every run looks at all of them.
    """
    total = 0
    # Chains with settled rows only: on SQLite each chain_one() takes the database's write lock.
    for chain in pending_chains(settled_before=timezone.now() - timedelta(seconds=settle_seconds)):
        while total < max_rows:
            done = chain_one(chain, settle_seconds=settle_seconds, limit=min(BATCH_SIZE, max_rows - total))
            total += done
            if done == 0:
                break
    return total


def _lock_head(chain: str) -> AuditChainHead | None:
    """Lock the chain's head, creating it when the chain is new. None when another chainer holds
    it (PostgreSQL: SKIP LOCKED, so a second worker moves on to another chain instead of waiting).
    On SQLite the transaction's write lock already serialises chainers."""
    AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
    return AuditChainHead.objects.select_for_update(skip_locked=True).filter(chain=chain).first()


def chain_one(chain: str, *, settle_seconds: float = SETTLE_SECONDS, limit: int = BATCH_SIZE) -> int:
    """Extend one chain by up to `limit` rows, in one transaction; return how many."""
    cutoff = timezone.now() - timedelta(seconds=settle_seconds)
    with transaction.atomic():
        head = _lock_head(chain)
        if head is None:
            return 0
        rows = list(
            AuditEvent.objects.filter(chain=chain, row_hash="", occurred_at__lte=cutoff)
            .order_by("id")
            .values(*HASHED_FIELDS)[:limit]
        )
        if not rows:
            return 0
        seq, prev = head.last_seq, head.last_hash
        updates: list[tuple[int, int, str, str]] = []
        for row in rows:
            seq += 1
            digest = row_digest(row, chain_seq=seq, prev_hash=prev)
            updates.append((row["id"], seq, prev, digest))
            prev = digest
        _write_hashes(updates)
        head.last_seq, head.last_hash = seq, prev
        head.save(update_fields=["last_seq", "last_hash", "updated_at"])
    return len(rows)


def _write_hashes(updates: list[tuple[int, int, str, str]]) -> None:
    """Fill chain_seq/prev_hash/row_hash: the one UPDATE the append-only triggers let through.

    One statement per batch (UPDATE … FROM (VALUES …)) rather than a statement per row: the
    chaining job's cost is mostly round trips."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(updates), 500):
            part = updates[start : start + 500]
            if connection.vendor == "postgresql":
                values = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(part))
                sql = (
                    f'UPDATE "{table}" AS e SET chain_seq = v.seq, prev_hash = v.prev, row_hash = v.digest '  # noqa: S608  (table name from the model, values bound)
                    f"FROM (VALUES {values}) AS v(id, seq, prev, digest) WHERE e.id = v.id AND e.row_hash = ''"
                )
                cursor.execute(sql, [x for u in part for x in u])
            else:
                cursor.executemany(
                    f"UPDATE \"{table}\" SET chain_seq = %s, prev_hash = %s, row_hash = %s WHERE id = %s AND row_hash = ''",  # noqa: S608
                    [(seq, prev, digest, pk) for pk, seq, prev, digest in part],
                )


# --- Verification -----------------------------------------------------------------------------


@dataclass
class Break:
    """The first broken row of a chain."""

    chain: str
    chain_seq: int
    event_id: int | None
    kind: str  # "edited" | "missing" | "link" | "truncated"
    message: str


@dataclass
class ChainReport:
    chain: str
    rows: int = 0
    pending: int = 0
    broken: Break | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None


def chains() -> list[str]:
    """Every chain that has a head or any row."""
    names = set(AuditChainHead.objects.values_list("chain", flat=True))
    names.update(pending_chains())
    return sorted(names)


def _walk(chain: str) -> Iterator[dict[str, Any]]:
    return (
        AuditEvent.objects.filter(chain=chain, chain_seq__isnull=False)
        .order_by("chain_seq")
        .values(*HASHED_FIELDS)
        .iterator(chunk_size=2000)
    )


def verify_chain(chain: str) -> ChainReport:
    """Walk a chain in chain_seq order and stop at the first broken row.

    Checked at each position n, in this order: a gap (row n is missing: deleted, or its chain_seq
    changed), a broken link (its prev_hash is not the previous row's row_hash: rows were
    reordered or replaced), an edit (its row_hash does not match its content). Finally the head
    must point at the last row, or rows were cut off the end.
    """
    report = ChainReport(chain=chain)
    expected_seq, prev = 1, GENESIS_HASH
    rows: Iterable[dict[str, Any]] = _walk(chain)
    for row in rows:
        seq = row["chain_seq"]
        if seq != expected_seq:
            report.broken = Break(
                chain,
                expected_seq,
                None,
                "missing",
                f"第 {expected_seq} 条记录缺失（下一条现存记录为第 {seq} 条，ID {row['id']}）",
            )
            return report
        if row["prev_hash"] != prev:
            report.broken = Break(
                chain,
                seq,
                row["id"],
                "link",
                f"第 {seq} 条记录（ID {row['id']}）与前一条不衔接（前序哈希不符）",
            )
            return report
        if row["row_hash"] != row_digest(row, chain_seq=seq, prev_hash=row["prev_hash"]):
            report.broken = Break(
                chain, seq, row["id"], "edited", f"第 {seq} 条记录（ID {row['id']}）内容被修改（哈希不符）"
            )
            return report
        prev = row["row_hash"]
        expected_seq += 1
        report.rows += 1
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.last_seq != report.rows or head.last_hash != prev):
        report.broken = Break(
            chain,
            report.rows + 1,
            None,
            "truncated",
            f"链尾缺失：链头记录到第 {head.last_seq} 条，现存只到第 {report.rows} 条",
        )
        return report
    report.pending = AuditEvent.objects.filter(chain=chain, row_hash="").count()
    return report


def triggers_installed() -> bool:
    """Whether the append-only triggers (migration 0004) are in place on this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_append_only' AND tgenabled <> 'D'"
            )
            return cursor.fetchone()[0] == 1
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_event_%'"
            )
            return cursor.fetchone()[0] == 3
    return False
