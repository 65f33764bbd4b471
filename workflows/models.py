"""Flow data: the 发文 process, opinions (意见), common phrases, group-task candidates.

viewflow keeps the process and its tasks (viewflow.workflow.models.Process/Task); what our steps
add lives here. Node and flow import paths are stored in viewflow's tables: never rename
`workflows.flows.OutgoingFlow` or its node attributes (running processes would be orphaned).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from viewflow.workflow.models import Process, Task


class OutgoingProcess(Process):
    """One 发文 process: its document and the routing choices made on the way.

    `countersign_parties`: [{"kind": "department"|"agency", "id": int, "label": str}] chosen at
    draft or 处室审核; `sign_off_chain`: user ids of the leaders who sign in order (joint issue:
    each agency's leader), `sign_off_index`: how many have signed; `seal_agencies`: agency ids still
    to seal; `route`: where the step just finished sends the flow ("next" or a node name for 退回).
    """

    document = models.OneToOneField(
        "documents.OfficialDocument", on_delete=models.PROTECT, related_name="outgoing_process"
    )
    countersign_parties = models.JSONField(default=list, blank=True)
    sign_off_chain = models.JSONField(default=list, blank=True)
    sign_off_index = models.PositiveSmallIntegerField(default=0)
    seal_agencies = models.JSONField(default=list, blank=True)
    route = models.CharField(max_length=20, default="next")
    # A countersigner disagreed: the flow goes back to the drafter after the join (会签不一致).
    countersign_objection = models.BooleanField(default=False)
    suspended = models.BooleanField("已挂起", default=False)

    class Meta:
        verbose_name = "发文流程"
        verbose_name_plural = "发文流程"

    def __str__(self) -> str:
        return f"发文流程 {self.pk}"


class Decision(models.TextChoices):
    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"
    RETURN = "return", "退回"
    READ = "read", "已阅"
    WITHDRAW = "withdraw", "撤回"
    TRANSFER = "transfer", "转办"
    FORCE_MOVE = "force_move", "重定位"
    NOTE = "note", "说明"
    # 收文
    NOT_OURS = "not_ours", "非本单位职责"
    SEND_BACK = "send_back", "退文"
    URGE = "urge", "催办"


class Opinion(models.Model):
    """意见 / 批示: a signed comment at a step. Never edited; the 发文处理单 prints them in order."""

    document = models.ForeignKey(
        "documents.OfficialDocument", on_delete=models.CASCADE, related_name="opinions"
    )
    process = models.ForeignKey(Process, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step = models.CharField("环节", max_length=20)
    step_label = models.CharField("环节名称", max_length=40)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签署人", on_delete=models.PROTECT, related_name="+"
    )
    # 代: the author acted for this person under a delegation (委托).
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The department or agency a 会签 opinion speaks for.
    party_label = models.CharField("会签单位", max_length=100, blank=True)
    decision = models.CharField("结论", max_length=12, choices=Decision.choices)
    text = models.TextField("意见", blank=True)
    return_to = models.CharField("退回至", max_length=20, blank=True)
    signature = models.ForeignKey(
        "blobs.Blob",
        verbose_name="手写签名",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("签署时间", default=timezone.now)

    class Meta:
        verbose_name = "意见"
        verbose_name_plural = "意见"
        ordering = ["document", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.step_label}：{self.get_decision_display()}"


class CommonOpinion(models.Model):
    """常用意见: a person's own list of phrases, offered at every step."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="common_opinions"
    )
    text = models.CharField("常用意见", max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "常用意见"
        verbose_name_plural = "常用意见"
        ordering = ["user", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "text"], name="common_opinion_unique")]

    def __str__(self) -> str:
        return self.text


class TaskCandidate(models.Model):
    """A person who may claim (抢办) an unassigned group task: 或签 by any head of a department.

    The first claimer becomes the task's owner; the others' rows stay for the record and the
    inbox stops showing the task to them (it lists candidates' tasks only while unowned)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="candidates")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "任务候选人"
        verbose_name_plural = "任务候选人"
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="task_candidate_once")]
        indexes = [models.Index(fields=["user", "task"])]

    def __str__(self) -> str:
        return f"{self.user} 可办理 {self.task_id}"


class IncomingProcess(Process):
    """One 收文 process in the receiving agency (flows.md §2): its document and the choices made.

    `route`: where the step just finished sends the flow ("next", the name of an earlier step for
    退回, or "returned" at 初审 for 退文 to the sender). 拟办 sets `handling_kind` and
    `instructing_leader`; 批办 sets `lead_unit`, `co_units` and `deadline`; 分办 may adjust the
    units (one 承办 task per unit, in parallel). A unit that answers "not ours" is listed in
    `not_ours` ({"unit": id, "reason": text}) and the flow goes back to 分办 after the others finish."""

    document = models.OneToOneField(
        "documents.OfficialDocument", on_delete=models.PROTECT, related_name="incoming_process"
    )
    route = models.CharField(max_length=20, default="next")
    handling_kind = models.CharField("办理类型", max_length=10, blank=True)
    instructing_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批办领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead_unit = models.ForeignKey(
        "org.Department",
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    co_units = models.JSONField("协办单位", default=list, blank=True)  # department ids
    deadline = models.DateField("办理时限", null=True, blank=True)
    not_ours = models.JSONField(default=list, blank=True)
    suspended = models.BooleanField("已挂起", default=False)

    class Meta:
        verbose_name = "收文流程"
        verbose_name_plural = "收文流程"

    def __str__(self) -> str:
        return f"收文流程 {self.pk}"


class Circulation(models.Model):
    """传阅: a document sent round to readers, in order (one after another) or all at once.

    Each reader's `CirculationReader` row is their 待阅 item until they mark it 已阅; in order, the
    next reader's item becomes 待阅 only when the one before has read it."""

    document = models.ForeignKey(
        "documents.OfficialDocument", on_delete=models.CASCADE, related_name="circulations"
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    in_order = models.BooleanField("依次传阅", default=False)
    note = models.CharField("传阅说明", max_length=200, blank=True)
    created_at = models.DateTimeField("发起时间", default=timezone.now)
    finished_at = models.DateTimeField("传阅完毕", null=True, blank=True)

    class Meta:
        verbose_name = "传阅"
        verbose_name_plural = "传阅"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"传阅 {self.pk}"


class ReadingState(models.TextChoices):
    WAITING = "waiting", "未到"  # in order: an earlier reader has not read yet
    UNREAD = "unread", "待阅"
    READ = "read", "已阅"


class CirculationReader(models.Model):
    circulation = models.ForeignKey(Circulation, on_delete=models.CASCADE, related_name="readers")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Who the reader reads for when they are a delegate (代阅), as 代 on the page.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField("顺序", default=0)
    state = models.CharField("状态", max_length=8, choices=ReadingState.choices, default=ReadingState.UNREAD)
    # When the item reached the reader's 待阅 (in order: when the one before read it).
    arrived_at = models.DateTimeField("送达时间", null=True, blank=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    comment = models.CharField("阅读意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "传阅人"
        verbose_name_plural = "传阅人"
        ordering = ["circulation", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["circulation", "reader"], name="circulation_reader_once")
        ]
        indexes = [
            # 待阅 / 已阅 lists: a reader's newest items of one state.
            models.Index(fields=["reader", "state", "-arrived_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.reader}（{self.get_state_display()}）"


class TaskDue(models.Model):
    """The deadline (办理时限) of an open task, kept beside viewflow's Task so the reminder scan reads
    one indexed date range instead of every open task's JSON. Written when a task with a deadline
    is created (any flow); the scan skips tasks that are no longer open."""

    task = models.OneToOneField(Task, primary_key=True, on_delete=models.CASCADE, related_name="due")
    due_on = models.DateField("办理时限", db_index=True)

    class Meta:
        verbose_name = "任务时限"
        verbose_name_plural = "任务时限"

    def __str__(self) -> str:
        return f"{self.task_id} 限 {self.due_on}"


class ReminderKind(models.TextChoices):
    BEFORE = "before", "到期前提醒"
    DUE = "due", "到期提醒"
    OVERDUE = "overdue", "超期催办"
    TO_HEAD = "to_head", "超期升级至处室负责人"
    TO_LEADER = "to_leader", "超期升级至分管领导"
    MANUAL = "manual", "人工催办"


class Reminder(models.Model):
    """催办: one reminder sent about one task. Automatic ones are unique per (task, kind, day), so a
    worker that runs twice or restarts mid-run sends each exactly once (the row and its
    notification commit together or not at all); manual ones (`by` set) are never merged."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("类型", max_length=10, choices=ReminderKind.choices)
    for_date = models.DateField("所属日期")
    recipients = models.JSONField("提醒对象", default=list)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="催办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("催办说明", max_length=200, blank=True)
    sent_at = models.DateTimeField("发送时间", default=timezone.now)

    class Meta:
        verbose_name = "催办记录"
        verbose_name_plural = "催办记录"
        ordering = ["task", "sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "for_date"],
                condition=models.Q(by__isnull=True),
                name="reminder_once_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.task_id}"
