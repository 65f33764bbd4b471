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
