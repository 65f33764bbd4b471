"""Conversations, their members and their messages (即时通讯).

Three facts carry the design (docs/decisions.md, the chat entries):

- Every message of a conversation has a sequence number `seq`, 1, 2, 3 … with no gap: the sender's
  transaction locks the conversation row, takes `last_seq + 1` and writes the message under the
  unique (conversation, seq) constraint. A client that knows the last seq it holds asks for
  everything after it and receives each missed message once, in order.
- Read state is one integer per member (`last_read_seq`): unread = conversation.last_seq −
  last_read_seq, "N人未读" of a group message = members whose last_read_seq is below its seq.
- A send carries the client's own id (`client_id`): the unique (conversation, sender, client_id)
  turns a retried send into the message already stored instead of a second one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ConversationKind(models.TextChoices):
    DIRECT = "direct", "单聊"
    GROUP = "group", "群聊"
    DEPARTMENT = "department", "部门群"


class Conversation(models.Model):
    kind = models.CharField("类型", max_length=12, choices=ConversationKind.choices)
    name = models.CharField("群名称", max_length=60, blank=True)
    # 群公告: who wrote it and when, shown above the messages.
    notice = models.TextField("群公告", blank=True)
    notice_updated_at = models.DateTimeField(null=True, blank=True)
    notice_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "lo:hi" of the two user ids of a 1:1 chat: the unique key makes "start a chat with X" open the
    # existing conversation instead of a second one, even when both click at once.
    direct_key = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    # The department whose 部门群 this is (kept in sync with the org by chat.membership).
    department = models.OneToOneField(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_group",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    # The counter behind gap-free seq; only the sender's locked transaction moves it.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    member_count = models.PositiveIntegerField(default=0, editable=False)
    dissolved_at = models.DateTimeField("解散时间", null=True, blank=True)

    class Meta:
        verbose_name = "会话"
        verbose_name_plural = "会话"

    def __str__(self) -> str:
        return self.name or f"会话 {self.pk}"

    @property
    def is_direct(self) -> bool:
        return self.kind == ConversationKind.DIRECT

    @property
    def is_active(self) -> bool:
        return self.dissolved_at is None


class MemberRole(models.TextChoices):
    OWNER = "owner", "群主"
    ADMIN = "admin", "管理员"
    MEMBER = "member", "成员"


class Membership(models.Model):
    """One person in one conversation. A member who left or was removed keeps the row
    (`left_at` set) for the record, and loses access to the conversation at once."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    role = models.CharField("角色", max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    # A member sees the messages after the one that was last when they joined (seq > joined_seq).
    joined_seq = models.PositiveBigIntegerField(default=0)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    muted = models.BooleanField("免打扰", default=False)
    pinned = models.BooleanField("置顶", default=False)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "会话成员"
        verbose_name_plural = "会话成员"
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="chat_member_once"),
        ]
        indexes = [
            # The conversation list and the total unread count of one person.
            models.Index(fields=["user", "left_at"], name="chat_member_user_idx"),
            # The members of one conversation (fan-out, "N人未读").
            models.Index(fields=["conversation", "left_at"], name="chat_member_conv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"

    @property
    def is_current(self) -> bool:
        return self.left_at is None

    @property
    def is_admin(self) -> bool:
        return self.role in (MemberRole.OWNER, MemberRole.ADMIN)


class MessageKind(models.TextChoices):
    TEXT = "text", "文本"
    FILE = "file", "文件"
    IMAGE = "image", "图片"
    SYSTEM = "system", "系统消息"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    # Null for system messages ("张三 加入了群聊").
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    # Text of a text message, caption of a file, rendered sentence of a system message. Emptied on
    # recall and by retention: the row stays so that seq keeps no gap.
    body = models.TextField(blank=True)
    # What a system message records (kind of event and the ids involved), for the client to render.
    data = models.JSONField(default=dict, blank=True)
    # Null, not "", when the client sent none: the unique constraint below ignores nulls only.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A forwarded message keeps its origin: the message it came from, and the origin's sender and
    # conversation name as they were (the forwarder may not see the origin conversation).
    forwarded_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin_sender_name = models.CharField(max_length=40, blank=True)
    origin_conversation_name = models.CharField(max_length=60, blank=True)
    blob = models.ForeignKey("blobs.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    thumbnail = models.ForeignKey(
        "blobs.Blob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # User ids @mentioned; mention_all is @所有人 (group admins only).
    mentions = models.JSONField(default=list, blank=True)
    mention_all = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    recalled_at = models.DateTimeField(null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when retention removed the content of an old message.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq_once"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_client_id_once",
            ),
        ]
        indexes = [
            # Retention walks the oldest messages not yet emptied; purged rows drop out of the index,
            # so a run never wades through what earlier runs already purged.
            models.Index(
                fields=["created_at"], name="chat_message_unpurged_idx", condition=Q(purged_at__isnull=True)
            ),
            # A blob's referrer asks "which messages hold this blob".
            models.Index(fields=["blob"], name="chat_message_blob_idx", condition=Q(blob__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"

    @property
    def is_recalled(self) -> bool:
        return self.recalled_at is not None


class ChatRetention(models.Model):
    """The one retention setting of the platform's chat, kept by the 安全管理员.

    `days` = 0 keeps messages for ever; otherwise the daily job empties messages older than that
    (rows stay, content and files go)."""

    days = models.PositiveIntegerField("消息保存天数", default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "消息保存期限"
        verbose_name_plural = "消息保存期限"

    def __str__(self) -> str:
        return f"{self.days} 天" if self.days else "永久保存"
