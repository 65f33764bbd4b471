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

    # A 发文/收文 opinion belongs to its document; a 督办 opinion (拟办, 审定, 审核, 批示 …) to its item.
    document = models.ForeignKey(
        "documents.OfficialDocument",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="opinions",
    )
    item = models.ForeignKey(
        "workflows.SupervisionItem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="opinions",
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
    # 督办: a progress report (进展反馈) due soon / missing.
    REPORT_DUE = "report_due", "进展反馈提醒"
    REPORT_LATE = "report_late", "进展反馈逾期催报"


class Reminder(models.Model):
    """催办: one reminder sent about one task. Automatic ones are unique per (task, kind, day), so a
    worker that runs twice or restarts mid-run sends each exactly once (the row and its
    notification commit together or not at all); manual ones (`by` set) are never merged."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("类型", max_length=12, choices=ReminderKind.choices)
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


# --- 督查督办 (flows.md §3) ----------------------------------------------------------------------


class SupervisionSource(models.TextChoices):
    INSTRUCTION = "instruction", "领导批示"
    MEETING = "meeting", "会议决定"
    DOCUMENT = "document", "重要文件"
    HIGHER = "higher", "上级交办"
    PROPOSAL = "proposal", "建议提案"
    PUBLIC = "public", "群众反映"
    OTHER = "other", "其他"


class ReportFrequency(models.TextChoices):
    ONCE = "once", "一次性反馈"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    CUSTOM = "custom", "自定义（每N个工作日）"


class Importance(models.TextChoices):
    NORMAL = "normal", "一般"
    IMPORTANT = "important", "重要"
    CRITICAL = "critical", "重大"


class Light(models.TextChoices):
    GREEN = "green", "绿灯"
    YELLOW = "yellow", "黄灯"
    RED = "red", "红灯"


class ItemState(models.TextChoices):
    """Mirrors the node of the item's 督办 process (flows.md §3), plus the ends."""

    REGISTER = "register", "登记编号"
    PROPOSE = "propose", "拟办"
    APPROVE = "approve", "审定"
    ASSIGN = "assign", "交办"
    ACCEPT = "accept", "签收"
    HANDLE = "handle", "承办"
    REVIEW = "review", "审核"
    LEADER_REVIEW = "leader_review", "报送领导审阅"
    CLOSE = "close", "销号"
    ARCHIVE = "archive", "待归档"
    ARCHIVED = "archived", "已归档"
    TERMINATED = "terminated", "已撤销"


# Items still being worked on: lights and reminders apply to these.
OPEN_ITEM_STATES = frozenset(
    {
        ItemState.REGISTER,
        ItemState.PROPOSE,
        ItemState.APPROVE,
        ItemState.ASSIGN,
        ItemState.ACCEPT,
        ItemState.HANDLE,
        ItemState.REVIEW,
        ItemState.LEADER_REVIEW,
    }
)


class SupervisionItem(models.Model):
    """督办事项: a task from a leader's 批示, a meeting decision, a document … followed to 销号.

    `lead_department` or `lead_agency` is the 主办/牵头单位 (a department of the supervising agency,
    or another agency); `co_units` the 协办单位 as [{"kind": "department"|"agency", "id", "label"}].
    The source record (a 收文/发文 now, a meeting later) is a generic reference resolved through
    `officeapp.registries` (supervision sources), never a foreign key to a higher app.
    `light` is the stored result of the one light function (workflows/supervision_lights.py),
    recomputed on every change and nightly; dashboards read it."""

    agency = models.ForeignKey(
        "org.Agency", verbose_name="督办机关", on_delete=models.PROTECT, related_name="supervision_items"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    serial = models.PositiveIntegerField("序号", null=True, blank=True)
    number = models.CharField("督办编号", max_length=40, blank=True, db_index=True)
    source = models.CharField("任务来源", max_length=12, choices=SupervisionSource.choices)
    source_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source_label = models.CharField("来源说明", max_length=200, blank=True)
    instruction = models.TextField("领导批示", blank=True)
    title = models.CharField("督办事项", max_length=200)
    requirement = models.TextField("办理要求", blank=True)
    lead_department = models.ForeignKey(
        "org.Department",
        verbose_name="牵头单位（处室）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="牵头单位（机关）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    co_units = models.JSONField("协办单位", default=list, blank=True)
    received_on = models.DateField("收到时间")
    due_on = models.DateField("完成时限", null=True, blank=True)
    # Given in 工作日 (the date is then computed from the 交办 day); else None and `due_on` is as typed.
    due_in_working_days = models.PositiveSmallIntegerField("完成时限（工作日）", null=True, blank=True)
    report_frequency = models.CharField(
        "反馈频次", max_length=10, choices=ReportFrequency.choices, default=ReportFrequency.MONTHLY
    )
    report_interval_days = models.PositiveSmallIntegerField("反馈间隔（工作日）", null=True, blank=True)
    next_report_on = models.DateField("下次反馈日期", null=True, blank=True)
    importance = models.CharField(
        "重要程度", max_length=10, choices=Importance.choices, default=Importance.NORMAL
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督查员", on_delete=models.PROTECT, related_name="+"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批办领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField("状态", max_length=14, choices=ItemState.choices, default=ItemState.REGISTER)
    light = models.CharField("红黄绿灯", max_length=6, choices=Light.choices, default=Light.GREEN)
    light_reason = models.CharField("亮灯原因", max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField("完成进度（%）", default=0)
    last_report_at = models.DateTimeField("最近反馈", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("立项时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "督办事项"
        verbose_name_plural = "督办事项"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "serial"],
                name="supervision_serial_once",
                condition=models.Q(serial__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "state", "light"]),
            models.Index(fields=["lead_department", "state", "light"]),
            models.Index(fields=["lead_agency", "state", "light"]),
            models.Index(fields=["agency", "-created_at"]),
            models.Index(fields=["state", "due_on"]),
            # The dashboard's 逾期 and 本周到期 lists: open items in deadline order, first ten.
            models.Index(
                fields=["due_on", "id"],
                condition=models.Q(state__in=sorted(OPEN_ITEM_STATES)),
                name="supervision_open_due",
            ),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return self.number or self.title

    @property
    def lead_label(self) -> str:
        unit = self.lead_department or self.lead_agency
        return unit.name if unit is not None else ""


class SupervisionUnit(models.Model):
    """One unit of an item (主办 or 协办), kept as rows so "the items my department leads or helps
    with" is one indexed lookup (the item's `co_units` JSON is for display)."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="units")
    department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_lead = models.BooleanField("牵头", default=False)

    class Meta:
        verbose_name = "督办单位"
        verbose_name_plural = "督办单位"
        indexes = [models.Index(fields=["department", "item"]), models.Index(fields=["agency", "item"])]

    def __str__(self) -> str:
        return f"{self.item_id} {'牵头' if self.is_lead else '协办'}"


class SupervisionTally(models.Model):
    """督办看板 counts kept as they change (D24): insert-only change rows, one per key and statement,
    written by database triggers on SupervisionItem and SupervisionUnit (migration 0007) — so COPY,
    bulk updates and every service are counted alike, in the transaction of the change. A figure is
    the SUM of its key's rows; the hourly job replaces them with a fresh count
    (workflows/supervision_tally.py). Keys are plain numbers (0 = none), not foreign keys.

    kind "item": (agency, 牵头单位, state, light, source) → items, 销号, and the 超期 of finished
    items (their days late no longer change); "co": the 协办 rows by (item's keys, unit);
    "month": items per (牵头单位, series, month) — 新立项, 销号, and finished items that missed
    their deadline, by the deadline's month; "due": per (牵头单位, deadline day) the open items (n)
    and the unfinished ones (late_n), so 逾期, 本周到期 and the running 超期 are a range of days;
    "report": 承办 items per (牵头单位, next report day), so 反馈逾期 is one too."""

    kind = models.CharField(max_length=6)
    agency = models.BigIntegerField()
    lead_department = models.BigIntegerField(default=0)
    lead_agency = models.BigIntegerField(default=0)
    state = models.CharField(max_length=14, blank=True)
    light = models.CharField(max_length=6, blank=True)
    source = models.CharField(max_length=12, blank=True)
    unit_department = models.BigIntegerField(default=0)
    unit_agency = models.BigIntegerField(default=0)
    series = models.CharField(max_length=8, blank=True)
    month = models.IntegerField(default=0)  # yyyymm
    day = models.DateField(null=True, blank=True)
    n = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    late_n = models.BigIntegerField(default=0)
    late_days = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "督办统计"
        verbose_name_plural = "督办统计"
        indexes = [
            models.Index(fields=["agency", "kind", "day"]),
            models.Index(fields=["lead_department", "kind", "day"]),
            models.Index(fields=["lead_agency", "kind", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.n:+d}"


class SupervisionSequence(models.Model):
    """The counter behind 督办编号: one row per agency and year, locked FOR UPDATE (gap-free)."""

    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年份")
    last_serial = models.PositiveIntegerField("已用到", default=0)

    class Meta:
        verbose_name = "督办编号序列"
        verbose_name_plural = "督办编号序列"
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="supervision_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} 督办 {self.year}"


class SupervisionParticipant(models.Model):
    """Who took part in an item (task holders and candidates, reporters): they may open it."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "督办参与人"
        verbose_name_plural = "督办参与人"
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="supervision_participant_once")]
        indexes = [models.Index(fields=["user", "item"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.item_id}"


class ReportKind(models.TextChoices):
    PROGRESS = "progress", "进展反馈"
    COMPLETION = "completion", "办结报告"


class ReportState(models.TextChoices):
    DRAFT = "draft", "待审签"  # written by the unit's handler, waiting for the unit head's sign-off
    SUBMITTED = "submitted", "已报送"
    ACCEPTED = "accepted", "已审核"
    RETURNED = "returned", "退回重报"


class ProgressReport(models.Model):
    """进展反馈 / 办结报告 of a unit on an item; signed off by the unit's head before it counts.
    A 协办 unit's report `contributes_to` the lead unit's report of the same period."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField("类型", max_length=10, choices=ReportKind.choices, default=ReportKind.PROGRESS)
    department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_label = models.CharField("反馈单位", max_length=100)
    is_lead = models.BooleanField("牵头单位", default=True)
    contributes_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="contributions"
    )
    text = models.TextField("进展情况")
    percentage = models.PositiveSmallIntegerField("完成进度（%）", default=0)
    # The scheduled report date this report answers (None: an unscheduled report).
    period_due_on = models.DateField("应反馈日期", null=True, blank=True)
    state = models.CharField("状态", max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审签人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_off_at = models.DateTimeField("审签时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    created_at = models.DateTimeField("填报时间", default=timezone.now)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)

    class Meta:
        verbose_name = "进展反馈"
        verbose_name_plural = "进展反馈"
        ordering = ["item", "-created_at", "-pk"]
        indexes = [
            models.Index(fields=["item", "-created_at"]),
            models.Index(fields=["department", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item_id}"


class ReportAttachment(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="attachments")
    blob = models.ForeignKey("blobs.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField("文件名", max_length=200)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "反馈附件"
        verbose_name_plural = "反馈附件"

    def __str__(self) -> str:
        return self.filename


class ExtensionState(models.TextChoices):
    SUBMITTED = "submitted", "待初审"
    SCREENED = "screened", "待领导审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"
    WITHDRAWN = "withdrawn", "已撤回"


class ExtensionRequest(models.Model):
    """延期申请: before the deadline, with reason, progress and a new date; the 督查员 screens it and
    the responsible leader decides. Both dates stay here; an approved one replaces the item's."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("延期理由")
    progress = models.TextField("目前进展")
    current_due_on = models.DateField("原完成时限")
    requested_due_on = models.DateField("申请延至")
    state = models.CharField(
        "状态", max_length=10, choices=ExtensionState.choices, default=ExtensionState.SUBMITTED
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField(null=True, blank=True)
    screen_note = models.CharField("初审意见", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["item", "-created_at"]
        constraints = [
            # One open request at a time per item.
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(state__in=["submitted", "screened"]),
                name="extension_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"延期 {self.item_id} → {self.requested_due_on}"


class SupervisionProcess(Process):
    """One 督办 process: its item and the routing of the step just finished (`route`: "next", an
    earlier step for 退回/退办/重办, "not_ours" at 签收, "again" at 报送领导审阅 for a new 批示)."""

    item = models.OneToOneField(SupervisionItem, on_delete=models.PROTECT, related_name="process")
    route = models.CharField(max_length=20, default="next")
    suspended = models.BooleanField("已挂起", default=False)

    class Meta:
        verbose_name = "督办流程"
        verbose_name_plural = "督办流程"

    def __str__(self) -> str:
        return f"督办流程 {self.pk}"


# External to-dos pushed by registered apps (the integration API) live in their own module.
from workflows.models_external import ExternalTodo, ExternalTodoStatus  # noqa: E402, F401
