"""公文 at scale for the API read benchmark (PostgreSQL only): documents and their exchange records,
written with COPY, no flow run.

    build_document_data(total=1_000_000, agencies=agencies, focus=agency, people=people)

- `total` OfficialDocuments over three years, ids rising with created_at; half 发文 of their agency
  (a fifth still 拟稿, a tenth in the flow, the rest 分发/待归档/已归档 with a 发文字号 and 成文日期),
  half 收文 (registered … 办结) kept by the receiving agency.
- `focus` (the agency whose app and 收发员 the benchmark reads as) holds FOCUS_SHARE of all
  documents; the others share the rest evenly.
- Each sent 发文 is distributed to one or two other agencies (ExchangeRecord; the focus agency gets
  its share of them), most signed for, a few withdrawn.
- `people[agency_pk]` = (department_pk, user_pk): who drafted, registered or sent there.
Deterministic (seeded). Sequences are moved past the new ids; the tables are ANALYZEd.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

FOCUS_SHARE = 0.05
DOC_TYPES = [("notice", 40), ("letter", 25), ("report", 10), ("request", 10), ("opinion", 8), ("circular", 7)]
OUTGOING_STATES = [
    ("draft", 20),
    ("dept_review", 4),
    ("office_review", 3),
    ("sign_off", 3),
    ("distribute", 15),
    ("archive", 20),
    ("archived", 35),
]
SENT = {"distribute", "archive", "archived"}
INCOMING_STATES = [("register", 10), ("propose", 10), ("handle", 20), ("complete", 60)]
TITLES = [
    "关于做好防汛防台风工作的通知",
    "关于报送年度工作总结的通知",
    "关于开展安全生产大检查的通知",
    "关于印发营商环境优化方案的通知",
    "关于申请专项资金的请示",
    "关于乡村振兴重点任务落实情况的报告",
    "关于征求意见的函",
    "关于加强政务信息报送工作的意见",
]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> Iterator[str]:
    names, weights = [c for c, _ in choices], [w for _, w in choices]
    while True:
        yield from rng.choices(names, weights=weights, k=10_000)


def _template(model: Any, **fields: Any) -> tuple[list[str], list[Any]]:
    """The model's columns and one row of database values (defaults filled) to copy and vary."""
    from officeapp.management.commands.generate_scale import _copy_value

    instance = model(**fields)
    concrete = list(model._meta.concrete_fields)
    return [f.column for f in concrete], [_copy_value(f, instance) for f in concrete]


def _copy(model: Any, columns: list[str], rows: Iterator[list[Any]]) -> int:
    from officeapp.management.commands.generate_scale import _secondary_indexes_rebuilt

    if connection.vendor != "postgresql":
        raise RuntimeError("build_document_data 只在 PostgreSQL 上运行（COPY）")
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with (
        _secondary_indexes_rebuilt(model, large=True),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def build_document_data(
    *,
    total: int,
    agencies: Sequence[Any],
    focus: Any,
    people: dict[int, tuple[int, int]],
    seed: int = 2026,
) -> dict[str, int]:
    """Write `total` documents and their exchange records (see the module docstring); returns counts."""
    from documents.models import ExchangeRecord, OfficialDocument
    from officeapp.management.commands.generate_scale import _next_id, _reset_sequences

    rng = random.Random(seed)
    others = [a.pk for a in agencies if a.pk != focus.pk]
    first_id = _next_id(OfficialDocument)
    now = timezone.now()
    start = now - timedelta(days=3 * 365)
    step = (now - start) / total
    doc_columns, doc_template = _template(
        OfficialDocument,
        agency_id=focus.pk,
        department_id=people[focus.pk][0],
        drafter_id=people[focus.pk][1],
        title=TITLES[0],
    )
    col = {name: i for i, name in enumerate(doc_columns)}
    doc_types, out_states, in_states = (
        _weighted(rng, DOC_TYPES),
        _weighted(rng, OUTGOING_STATES),
        _weighted(rng, INCOMING_STATES),
    )
    # (document id, sender agency, created_at) of each sent 发文, distributed after the documents.
    sent: list[tuple[int, int, datetime]] = []
    serial: dict[tuple[int, int], int] = {}

    def documents() -> Iterator[list[Any]]:
        for n in range(total):
            pk = first_id + n
            agency = focus.pk if rng.random() < FOCUS_SHARE else others[n % len(others)]
            department, user = people[agency]
            created = start + step * n
            outgoing = n % 2 == 0
            state = next(out_states) if outgoing else next(in_states)
            row = doc_template.copy()
            row[col["id"]] = pk
            row[col["category"]] = "outgoing" if outgoing else "incoming"
            row[col["agency_id"]] = agency
            row[col["department_id"]] = department
            row[col["drafter_id"]] = user
            row[col["doc_type"]] = next(doc_types)
            row[col["title"]] = TITLES[n % len(TITLES)]
            row[col["state"]] = state
            row[col["created_at"]] = created
            row[col["updated_at"]] = created + timedelta(days=n % 20)
            if not outgoing or state in SENT:
                key = (agency, created.year)
                serial[key] = serial.get(key, 0) + 1
                row[col["doc_number"]] = f"{agency}〔{created.year}〕{serial[key]}号"
                row[col["issued_on"]] = created.date()
            if outgoing and state in SENT:
                sent.append((pk, agency, created))
            yield row

    written = _copy(OfficialDocument, doc_columns, documents())

    ex_columns, ex_template = _template(
        ExchangeRecord,
        document_id=first_id,
        sender_id=focus.pk,
        recipient_id=others[0],
        kind="main",
        sent_by_id=people[focus.pk][1],
    )
    ecol = {name: i for i, name in enumerate(ex_columns)}
    first_record = _next_id(ExchangeRecord)

    def records() -> Iterator[list[Any]]:
        pk = first_record
        for document_id, sender, sent_at in sent:
            recipients: set[int] = set()
            for _ in range(1 + (document_id % 2)):
                recipient = focus.pk if rng.random() < FOCUS_SHARE else rng.choice(others)
                if recipient != sender:
                    recipients.add(recipient)
            for recipient in sorted(recipients):
                state = rng.choices(["received", "pending", "withdrawn", "returned"], weights=[88, 7, 3, 2])[
                    0
                ]
                row = ex_template.copy()
                row[ecol["id"]] = pk
                row[ecol["document_id"]] = document_id
                row[ecol["sender_id"]] = sender
                row[ecol["recipient_id"]] = recipient
                row[ecol["kind"]] = "main" if len(recipients) == 1 or recipient == min(recipients) else "cc"
                row[ecol["state"]] = state
                row[ecol["sent_at"]] = sent_at
                row[ecol["sent_by_id"]] = people[sender][1]
                if state == "received":
                    row[ecol["received_at"]] = sent_at + timedelta(hours=3)
                    row[ecol["received_by_id"]] = people[recipient][1]
                    if pk % 2:  # 办结 by the recipient
                        row[ecol["completed_at"]] = sent_at + timedelta(days=5)
                if state == "withdrawn":
                    row[ecol["withdrawn_at"]] = sent_at + timedelta(hours=1)
                    row[ecol["withdrawn_by_id"]] = people[sender][1]
                pk += 1
                yield row

    exchanged = _copy(ExchangeRecord, ex_columns, records())
    _reset_sequences(OfficialDocument, ExchangeRecord)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE documents_officialdocument")
        cursor.execute("ANALYZE documents_exchangerecord")
    return {"documents": written, "exchange_records": exchanged}
