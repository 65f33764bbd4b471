"""Chat data at scale for the benchmarks and the query-count tests, written in bulk (no service runs).

    scale = build_chat_scale(messages=1_000_000, conversations=2_000, group_members=500)

- `scale.big`: a group of BIG_MEMBERS people with `messages` messages (seq 1…n, no gap) over two
  years; `scale.reader` is one of them and has read all but the last CATCH_UP (a phone that was
  offline: it catches up on those).
- `scale.crowd`: a group of `group_members` people (the reader among them) with CROWD_MESSAGES
  messages; its last message was read by about half of the members ("N人未读").
- The reader's conversation list: `conversations` in all (the two above included), a fifth of them
  1:1 chats, the rest small groups, each with a few messages; some pinned, some muted, a third with
  unread messages.

Messages look like real ones: Chinese text of realistic lengths (most a short line, a few long
paragraphs), client ids on what people sent, a few replies, @mentions, files and images (one shared
blob), recalled messages (body emptied) and system messages. Each membership's joined_seq,
last_read_seq and each conversation's last_seq, last_message_at, member_count are consistent with the
messages, as the services keep them.

Rows go in with COPY on PostgreSQL and executemany in one transaction on SQLite; ids are assigned
here (sequences are moved past them afterwards). Deterministic (seeded). The caller owns the
transaction: the benchmark builds inside the test database's transaction, so every run starts from
the same empty database and leaves nothing behind.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models
from django.utils import timezone

BIG_MEMBERS = 20
CATCH_UP = 1_000
CROWD_MESSAGES = 2_000
INBOX_MESSAGES = (3, 30)  # messages per conversation of the reader's list (min, max)

# Office chat text: bodies are windows of these sentences, of the lengths people type.
CORPUS = (
    "收到，马上处理。请各单位于本周五下班前报送上半年工作总结，材料统一发到办公室邮箱。"
    "明天上午九点在三楼会议室召开专题会议，请准时参加，带上相关材料。"
    "关于重点项目建设进度的通报已经印发，请大家认真学习并抓好落实。"
    "好的，我这边再核对一下数据，下午给你回复。财政厅的意见已经反馈过来了，主要是预算科目需要调整。"
    "今年防汛工作压力较大，各地要提前做好物资储备和人员值守安排，确保信息报送及时准确。"
    "麻烦把昨天的会议纪要发我一份，谢谢！文件我已经签了，放在你桌上。"
    "根据领导批示精神，请综合处牵头，会同相关处室研究提出具体落实意见，于三个工作日内报办公厅。"
    "这个事情需要跟教育厅再沟通一下，他们那边的联系人是高教处的孙处长。"
    "注意：系统将于今晚十点至十二点升级维护，期间暂停服务，请提前保存好工作内容。"
    "辛苦了！数据没问题，可以按程序报批。营商环境专项行动的第二阶段工作方案初稿已经完成，请各位提修改意见。"
)
FILE_NAMES = ["2026年工作要点.docx", "会议纪要.pdf", "预算调整表.xlsx", "通知（定稿）.docx"]
IMAGE_NAMES = ["现场照片.jpg", "截图.png", "签到表.jpg"]


@dataclass(frozen=True)
class ChatScale:
    reader: Any  # User: in `big` (CATCH_UP unread), in `crowd`, and in `conversations` in all
    big: Any  # Conversation with `messages` messages
    crowd: Any  # Conversation with `group_members` members
    crowd_message: Any  # Message: the crowd's last message, read by about half
    people: list[Any]  # every generated User, the reader first


# --- writing rows ----------------------------------------------------------------------------------
def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.local_concrete_fields]


def _write(model: type[models.Model], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows (values in `_columns(model)` order; datetimes aware, JSON as text) in bulk."""
    table = model._meta.db_table
    columns = _columns(model)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        # SQLite stores datetimes as naive UTC text, the way Django's backend adapts them.
        when = [
            i for i, f in enumerate(model._meta.local_concrete_fields) if isinstance(f, models.DateTimeField)
        ]
        adapt = connection.ops.adapt_datetimefield_value
        marks = ", ".join(["%s"] * len(columns))
        # Names come from the model's meta, values are parameters.
        sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})"  # noqa: S608
        batch: list[Sequence[Any]] = []
        for row in rows:
            if when:
                row = list(row)
                for i in when:
                    if row[i] is not None:
                        row[i] = adapt(row[i])
            batch.append(row)
            if len(batch) >= 50_000:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _template(model: type[models.Model], **values: Any) -> tuple[list[Any], dict[str, int]]:
    """A row of the model's defaults (with `values`), and the position of each column."""
    fields = model._meta.local_concrete_fields
    row = []
    for f in fields:
        if f.column in values:
            row.append(values[f.column])
        else:
            # get_default() gives "" for a blank text field without a default, None for a null one.
            default = f.get_default()
            row.append(json.dumps(default) if isinstance(f, models.JSONField) else default)
    return row, {f.column: i for i, f in enumerate(fields)}


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(*model_classes: type[models.Model]) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_classes)):
            cursor.execute(sql)


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE chat_message; ANALYZE chat_membership; ANALYZE chat_conversation")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- people ----------------------------------------------------------------------------------------
def build_people(count: int, *, prefix: str = "chat.bench", seed: int = 7) -> list[Any]:
    """`count` users across three agencies' departments (made once per prefix), bulk-created."""
    from officeapp.demo import GIVEN_CHARS_A, GIVEN_CHARS_B, SURNAMES
    from officeapp.org import services
    from officeapp.org.models import Agency, AgencyLevel, Department, User

    rng = random.Random(seed)
    departments: list[Any] = []
    for a, (agency_name, short) in enumerate(
        [("基准通讯厅", "通讯厅"), ("基准财政局", "财政局"), ("基准教育局", "教育局")]
    ):
        code = f"{prefix}.{a}".upper()
        agency = Agency.objects.filter(code=code).first() or services.create_agency(
            actor=None, name=f"{agency_name}{prefix}", short_name=short, level=AgencyLevel.PROVINCE, code=code
        )
        for d in range(2):
            department = Department.objects.filter(code=f"{code}-{d}").first() or services.create_department(
                actor=None, agency=agency, name=f"第{d + 1}处", code=f"{code}-{d}"
            )
            departments.append(department)
    start = User.objects.filter(username__startswith=f"{prefix}.").count()
    users = [
        User(
            username=f"{prefix}.{start + n}",
            real_name=rng.choice(SURNAMES)[0] + rng.choice(GIVEN_CHARS_A) + rng.choice(GIVEN_CHARS_B),
            department=departments[n % len(departments)],
            password="!",  # unusable: benchmark people never sign in by password
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users, batch_size=2000)
    return list(User.objects.filter(username__startswith=f"{prefix}.").order_by("pk"))[start : start + count]


# --- messages --------------------------------------------------------------------------------------
def _bodies(rng: random.Random, count: int = 4000) -> list[str]:
    """Bodies of realistic lengths: 60 % one short line, 30 % a few lines, 9 % a paragraph, 1 % long."""
    text = CORPUS * 4
    bodies = []
    for _ in range(count):
        roll = rng.random()
        length = (
            rng.randint(2, 20)
            if roll < 0.6
            else rng.randint(20, 80)
            if roll < 0.9
            else rng.randint(80, 300)
            if roll < 0.99
            else rng.randint(300, 1000)
        )
        start = rng.randrange(len(CORPUS))
        bodies.append(text[start : start + length])
    return bodies


class _Writer:
    """Conversations, memberships and messages with ids assigned here, written at `flush()`."""

    def __init__(self, seed: int) -> None:
        from chat.models import Conversation, Membership, Message
        from officeapp.blobs.models import Blob

        self.rng = random.Random(seed)
        self.bodies = _bodies(self.rng)
        self.now = timezone.now()
        self.next_conversation = _next_id(Conversation)
        self.next_membership = _next_id(Membership)
        self.next_message = _next_id(Message)
        self.conversations: list[list[Any]] = []
        self.memberships: list[list[Any]] = []
        self.message_chunks: list[Iterable[list[Any]]] = []
        sha = f"{seed:064x}"[-64:]
        self.blob = Blob.objects.filter(sha256=sha).first() or Blob.objects.create(
            sha256=sha, size=123_456, content_type="application/pdf", key=Blob.key_for(sha)
        )
        self.conv_row, self.conv_at = _template(Conversation, created_at=self.now)
        self.member_row, self.member_at = _template(Membership, joined_at=self.now)
        self.message_row, self.message_at = _template(Message)

    def conversation(
        self,
        *,
        kind: str,
        name: str,
        members: Sequence[Any],
        messages: int,
        first_at: datetime,
        last_at: datetime,
        read: dict[int, int] | None = None,
        options: dict[int, dict[str, bool]] | None = None,
    ) -> int:
        """One conversation of `members` (the first is the owner) with `messages` messages between
        `first_at` and `last_at`. `read` gives a user's last_read_seq (default: all read)."""
        conv_id = self.next_conversation
        self.next_conversation += 1
        row = list(self.conv_row)
        at = self.conv_at
        row[at["id"]] = conv_id
        row[at["kind"]] = kind
        row[at["name"]] = "" if kind == "direct" else name
        row[at["direct_key"]] = (
            ":".join(str(i) for i in sorted(u.pk for u in members)) if kind == "direct" else None
        )
        row[at["created_by_id"]] = members[0].pk
        row[at["created_at"]] = first_at
        row[at["last_seq"]] = messages
        row[at["last_message_at"]] = last_at if messages else None
        row[at["member_count"]] = len(members)
        self.conversations.append(row)
        read = read or {}
        options = options or {}
        for n, user in enumerate(members):
            m = list(self.member_row)
            at = self.member_at
            m[at["id"]] = self.next_membership
            self.next_membership += 1
            m[at["conversation_id"]] = conv_id
            m[at["user_id"]] = user.pk
            m[at["role"]] = (
                "owner"
                if n == 0 and kind != "direct"
                else "admin"
                if n == 1 and kind != "direct"
                else "member"
            )
            m[at["joined_at"]] = first_at
            m[at["last_read_seq"]] = read.get(user.pk, messages)
            for option, value in options.get(user.pk, {}).items():
                m[at[option]] = value
            self.memberships.append(m)
        first_message = self.next_message
        self.next_message += messages
        self.message_chunks.append(
            self._messages(conv_id, first_message, messages, [u.pk for u in members], first_at, last_at)
        )
        return conv_id

    def _messages(
        self,
        conv_id: int,
        first_id: int,
        count: int,
        senders: list[int],
        first_at: datetime,
        last_at: datetime,
    ) -> Iterable[list[Any]]:
        rng = self.rng
        bodies = self.bodies
        at = self.message_at
        template = self.message_row
        step = (last_at - first_at) / max(count - 1, 1)
        i_id, i_conv, i_seq, i_sender = at["id"], at["conversation_id"], at["seq"], at["sender_id"]
        i_kind, i_body, i_client, i_created = at["kind"], at["body"], at["client_id"], at["created_at"]
        for seq in range(1, count + 1):
            row = list(template)
            row[i_id] = first_id + seq - 1
            row[i_conv] = conv_id
            row[i_seq] = seq
            sender = senders[rng.randrange(len(senders))]
            row[i_sender] = sender
            row[i_created] = first_at + step * (seq - 1)
            roll = rng.random()
            if seq == 1 and len(senders) > 2:
                row[i_kind] = "system"
                row[i_sender] = None
                row[i_body] = "创建了群聊"
                row[at["data"]] = json.dumps({"event": "created", "user": senders[0]})
            elif roll < 0.02:
                row[i_kind] = "file"
                row[at["blob_id"]] = self.blob.pk
                row[at["file_name"]] = rng.choice(FILE_NAMES)
                row[at["file_size"]] = rng.randint(20_000, 5_000_000)
                row[i_client] = f"c{first_id + seq:021x}"
            elif roll < 0.04:
                row[i_kind] = "image"
                row[at["blob_id"]] = self.blob.pk
                row[at["thumbnail_id"]] = self.blob.pk
                row[at["file_name"]] = rng.choice(IMAGE_NAMES)
                row[at["file_size"]] = rng.randint(50_000, 3_000_000)
                row[i_client] = f"c{first_id + seq:021x}"
            elif roll < 0.045:
                row[i_kind] = "system"
                row[i_sender] = None
                row[i_body] = "修改群名为“专项工作组”"
                row[at["data"]] = json.dumps({"event": "renamed", "user": sender, "name": "专项工作组"})
            else:
                row[i_body] = bodies[rng.randrange(len(bodies))]
                row[i_client] = f"c{first_id + seq:021x}"
                if seq > 1 and rng.random() < 0.05:
                    row[at["reply_to_id"]] = first_id + rng.randrange(max(0, seq - 200), seq - 1)
                if rng.random() < 0.03:
                    row[at["mentions"]] = json.dumps([senders[rng.randrange(len(senders))]])
                if rng.random() < 0.005:
                    row[i_body] = ""
                    row[at["recalled_at"]] = row[i_created] + timedelta(seconds=30)
                    row[at["recalled_by_id"]] = sender
            yield row

    def flush(self) -> None:
        from chat.models import Conversation, Membership, Message

        _write(Conversation, self.conversations)
        _write(Membership, self.memberships)
        for chunk in self.message_chunks:
            _write(Message, chunk)
        self.conversations, self.memberships, self.message_chunks = [], [], []
        _reset_sequences(Conversation, Membership, Message)


# --- the pieces ------------------------------------------------------------------------------------
def build_group(
    members: Sequence[Any],
    *,
    messages: int,
    name: str = "专项工作组",
    read: dict[int, int] | None = None,
    seed: int = 11,
) -> Any:
    """One group of `members` (the first its owner) with `messages` messages; returns it."""
    from chat.models import Conversation

    writer = _Writer(seed)
    now = writer.now
    conv_id = writer.conversation(
        kind="group",
        name=name,
        members=members,
        messages=messages,
        first_at=now - timedelta(days=730),
        last_at=now - timedelta(minutes=1),
        read=read,
    )
    writer.flush()
    return Conversation.objects.get(pk=conv_id)


def build_inbox(reader: Any, others: Sequence[Any], *, conversations: int, seed: int = 13) -> list[int]:
    """`conversations` conversations of `reader`: a fifth 1:1 with distinct `others` (as many as
    there are), the rest groups of 3–12; a few messages each, 1 in 100 pinned, 1 in 20 muted, a third
    with unread messages. Returns their ids."""
    writer = _Writer(seed)
    rng = writer.rng
    now = writer.now
    ids = []
    directs = min(conversations // 5, len(others))
    for n in range(conversations):
        count = rng.randint(*INBOX_MESSAGES)
        last_at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        first_at = last_at - timedelta(days=rng.randint(1, 90))
        if n < directs:
            kind, members = "direct", [reader, others[n]]
        else:
            kind = "group"
            members = [reader, *rng.sample(list(others), min(len(others), rng.randint(2, 11)))]
        options = {reader.pk: {"pinned": n % 100 == 0, "muted": n % 20 == 7}}
        read = {reader.pk: count - rng.randint(1, min(count, 9))} if rng.random() < 0.33 else {}
        ids.append(
            writer.conversation(
                kind=kind,
                name=f"工作群{n + 1}",
                members=members,
                messages=count,
                first_at=first_at,
                last_at=last_at,
                read=read,
                options=options,
            )
        )
    writer.flush()
    return ids


def build_chat_scale(
    *, messages: int = 1_000_000, conversations: int = 2_000, group_members: int = 500, seed: int = 2026
) -> ChatScale:
    """The whole data set of the module docstring; `_analyze()`d at the end."""
    from chat.models import Message

    people = build_people(max(group_members, BIG_MEMBERS, 2), seed=seed)
    reader = people[0]
    rng = random.Random(seed)

    big = build_group(
        people[:BIG_MEMBERS],
        messages=messages,
        name="百万消息群",
        read={reader.pk: max(0, messages - CATCH_UP)},
        seed=seed + 1,
    )
    # The crowd's last message: half the members have read it, the rest stopped somewhere before.
    crowd_read = {
        u.pk: CROWD_MESSAGES if rng.random() < 0.5 else rng.randint(0, CROWD_MESSAGES - 1)
        for u in people[:group_members]
    }
    crowd = build_group(
        people[:group_members], messages=CROWD_MESSAGES, name="五百人大群", read=crowd_read, seed=seed + 2
    )
    build_inbox(reader, people[1:], conversations=max(0, conversations - 2), seed=seed + 3)
    _analyze()
    crowd_message = Message.objects.get(conversation=crowd, seq=CROWD_MESSAGES)
    return ChatScale(reader=reader, big=big, crowd=crowd, crowd_message=crowd_message, people=people)
