"""The 收文 part of `load_demo` ("30-incoming", after 发文 "20-outgoing" and 交换 "25-exchange"):
省财政厅 receives documents from 省府办公厅 and has 收文 in every state of its flow.

The documents are issued by 省府办公厅 through the real 发文 flow (workflows/demo.py drives them to
归档, so each is distributed to 省财政厅), then li.guohua (省财政厅's 收发员) signs for each and the
people of 省财政厅 drive its 收文 through the real services: 登记, 初审, 拟办, 批办 (a leader's inbox),
分办, 承办 with two units (one done, one open), 答复, 办结, 归档, a 阅知性 one in 传阅, one 退文 at 初审,
one registered by hand (a scanned PDF), and one overdue. The demo province (officeapp/demo.py) has
the people: 省财政厅's office director, 文秘, 收发员, 档案员, leaders with 分管, 预算处 and 国库处.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.incoming import default_deadline
from documents.models import (
    DocType,
    ExchangeRecord,
    ExchangeState,
    IncomingRecord,
    OfficialDocument,
    Retention,
    ReturnReason,
    Urgency,
)
from officeapp.org.models import Agency, Department, Role, User
from workflows.incoming import (
    IncomingStepInput,
    claim_incoming,
    complete_incoming_step,
    register_by_hand,
)
from workflows.models import Decision, IncomingProcess, TaskCandidate, TaskDue

# A one-page PDF as a scanner would produce (the bytes only need to be a PDF for the upload checks).
SCANNED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0>>endobj\n%%EOF\n"
)


@dataclass
class DemoIncoming:
    title: str
    topic: str
    stop_at: str  # the step whose task stays open; "archived", "returned", "handle_one_done"
    doc_type: str = DocType.NOTICE
    urgency: str = Urgency.NORMAL
    reading: bool = False  # 阅知性: 传阅 to the leaders instead of units
    overdue: bool = False
    opinions: dict[str, str] = field(default_factory=dict)


DOCUMENTS: list[DemoIncoming] = [
    DemoIncoming("关于做好2026年省级财政预算执行工作的通知", "预算执行", "archived"),
    DemoIncoming(
        "关于加快下达2026年中央和省级财政资金的通知", "资金下达", "complete", urgency=Urgency.URGENT
    ),
    DemoIncoming("关于报送2026年政府债务管理情况的函", "政府债务管理", "reply", doc_type=DocType.LETTER),
    DemoIncoming("关于开展财政资金绩效评价工作的通知", "绩效评价", "handle_one_done"),
    DemoIncoming("关于做好2027年部门预算编制工作的通知", "部门预算编制", "assign"),
    DemoIncoming(
        "关于切实做好防汛救灾资金保障工作的通知", "防汛救灾资金保障", "instruct", urgency=Urgency.EXTRA_URGENT
    ),
    DemoIncoming("关于加强国库集中支付管理的通知", "国库集中支付", "propose"),
    DemoIncoming("关于进一步规范政府采购行为的通知", "政府采购", "screen"),
    DemoIncoming("关于开展2026年度财会监督专项行动的通知", "财会监督", "register", urgency=Urgency.URGENT),
    DemoIncoming(
        "关于2026年上半年全省经济运行情况的通报",
        "经济运行",
        "complete",
        doc_type=DocType.CIRCULAR,
        reading=True,
    ),
    DemoIncoming("关于商请协助做好统计调查工作的函", "统计调查", "returned", doc_type=DocType.LETTER),
    DemoIncoming(
        "关于加快推进重点项目建设资金拨付的通知", "重点项目资金拨付", "handle_one_done", overdue=True
    ),
]

OPINIONS = {
    "register": "已登记。",
    "screen": "属本机关职责，行文规范，请拟办。",
    "propose": "拟请预算处牵头办理，国库处配合，请刘副厅长批示。",
    "instruct": "请预算处牵头抓紧办理，国库处配合，按时限报送办理结果。",
    "assign": "已按批示分送承办单位。",
    "reply": "已将办理结果函复省府办公厅。",
    "complete": "办理完毕。",
    "archive": "已归档。",
}


class IncomingDemo:
    def __init__(self, stdout: Callable[[str], Any]) -> None:
        self.say = stdout
        self.finance = Agency.objects.filter(code="GD-CZT").first()
        self.office = Agency.objects.filter(code="GD-BGT").first()

    def unit(self, name: str) -> Department:
        return Department.objects.get(agency=self.finance, name=name)

    def issue(self, spec: DemoIncoming) -> ExchangeRecord:
        """省府办公厅 issues the document through the real 发文 flow, 主送 省财政厅."""
        from workflows.demo import DemoDocument, OutgoingDemo

        outgoing = OutgoingDemo(self.say)
        drafter = User.objects.get(username="lin.xiaomei")
        outgoing.build_one(
            DemoDocument(
                spec.title,
                spec.topic,
                "archived",
                doc_type=spec.doc_type,
                urgency=spec.urgency,
                main=["省财政厅"],
            ),
            drafter,
        )
        document = OfficialDocument.objects.filter(agency=self.office, title=spec.title).latest("pk")
        return ExchangeRecord.objects.get(document=document, recipient=self.finance)

    def open_tasks(self, process: IncomingProcess) -> list[Task]:
        return list(
            Task.objects.filter(
                process=process, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
            ).order_by("pk")
        )

    def actor_for(self, task: Task) -> User:
        if task.owner_id:
            return task.owner
        candidate = TaskCandidate.objects.filter(task=task).select_related("user").order_by("user_id").first()
        if candidate is None:
            raise ValueError(f"演示数据：任务 {task.pk} 没有办理人")
        claim_incoming(task, actor=candidate.user)
        return candidate.user

    def step_input(
        self, step: str, spec: DemoIncoming, process: IncomingProcess, task: Task
    ) -> IncomingStepInput:
        step_input = IncomingStepInput(opinion=spec.opinions.get(step, OPINIONS.get(step, "同意。")))
        today = timezone.localdate()
        if step == "propose":
            if spec.reading:
                step_input.handling_kind = "reading"
                step_input.opinion = "阅知性公文，建议送厅领导传阅。"
            else:
                step_input.handling_kind = "action"
                step_input.lead_unit = self.unit("预算处")
                step_input.co_units = [self.unit("国库处")]
        elif step == "instruct":
            step_input.lead_unit = self.unit("预算处")
            step_input.co_units = [self.unit("国库处")]
            step_input.deadline = default_deadline(spec.urgency, today)
        elif step == "assign" and spec.reading:
            leaders = User.objects.filter(
                role_grants__role=Role.LEADER, role_grants__agency=self.finance, is_active=True
            ).order_by("sort_order", "pk")
            step_input.readers = list(leaders.distinct()[:3])
            step_input.in_order = True
            step_input.opinion = "请各位厅领导依次阅示。"
        elif step == "handle":
            label = (task.data or {}).get("unit", {}).get("label", "")
            step_input.result = f"{label}已按要求完成{spec.topic}相关工作。"
        elif step == "reply":
            step_input.result = f"{spec.topic}工作已办理完毕，办理情况已报省府办公厅。"
        elif step == "archive":
            step_input.retention = Retention.YEARS_10
        return step_input

    def act(self, task: Task, spec: DemoIncoming, process: IncomingProcess) -> None:
        step = task.flow_task.name
        actor = self.actor_for(task)
        step_input = self.step_input(step, spec, process, task)
        complete_incoming_step(Task.objects.get(pk=task.pk), actor=actor, step_input=step_input)

    def drive(self, process: IncomingProcess, spec: DemoIncoming) -> None:
        while True:
            tasks = self.open_tasks(process)
            if not tasks:
                return
            step = tasks[0].flow_task.name
            if step == spec.stop_at:
                return
            if step == "screen" and spec.stop_at == "returned":
                complete_incoming_step(
                    tasks[0],
                    actor=self.actor_for(tasks[0]),
                    step_input=IncomingStepInput(
                        decision=Decision.SEND_BACK,
                        return_reason=ReturnReason.NOT_OURS,
                        return_note="统计调查工作由省统计局牵头负责，请径送省统计局。",
                    ),
                )
                return
            if step == "handle" and spec.stop_at == "handle_one_done":
                # 国库处 (协办) has reported; 预算处 (主办) is still working on it.
                co = [t for t in tasks if (t.data or {}).get("unit", {}).get("role") == "co"]
                if co:
                    self.act(co[0], spec, process)
                return
            for task in tasks:
                self.act(task, spec, process)

    def backdate(self, process: IncomingProcess) -> None:
        """The overdue one: as if it had come in three weeks ago with a deadline a week past, so the
        reminders (催办) and the overdue marks have something to show. Dates only; the flow is real."""
        past = timezone.localdate() - timedelta(days=7)
        received = timezone.localdate() - timedelta(days=21)
        document = process.document
        OfficialDocument.objects.filter(pk=document.pk).update(deadline=past)
        IncomingRecord.objects.filter(document=document).update(received_on=received)
        IncomingProcess.objects.filter(pk=process.pk).update(deadline=past)
        for task in self.open_tasks(process):
            TaskDue.objects.update_or_create(task_id=task.pk, defaults={"due_on": past})
            task.data = {**(task.data or {}), "deadline": past.isoformat()}
            task.save(update_fields=["data"])

    def by_hand(self, clerk: User) -> None:
        """A paper 函 from 省审计厅, scanned and registered by hand, now at 初审."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        today = timezone.localdate()
        document = register_by_hand(
            actor=clerk,
            title="关于配合开展省级预算执行情况审计的函",
            doc_type=DocType.LETTER,
            source_agency=Agency.objects.filter(name="广东省审计厅").first(),
            source_name="广东省审计厅",
            source_number="粤审函〔2026〕21号",
            urgency=Urgency.NORMAL,
            issued_on=today - timedelta(days=4),
            received_on=today,
            copies=2,
            deadline=None,
            scanned_file=SimpleUploadedFile(
                "审计厅来函扫描件.pdf", SCANNED_PDF, content_type="application/pdf"
            ),
        )
        process = IncomingProcess.objects.get(document=document)
        self.drive(process, DemoIncoming(document.title, "审计配合", "screen"))

    def build(self) -> str:
        if self.finance is None or self.office is None:
            return ""
        from documents.exchange import receive

        clerk = User.objects.get(username="li.guohua")
        for spec in DOCUMENTS:
            with transaction.atomic():
                exchange = self.issue(spec)
                if exchange.state != ExchangeState.PENDING:
                    continue
                receive(exchange, actor=clerk)
                process = IncomingProcess.objects.get(document__incoming__exchange=exchange)
                self.drive(process, spec)
                if spec.overdue:
                    self.backdate(process)
        with transaction.atomic():
            self.by_hand(clerk)
        return (
            f"收文：省财政厅 {len(DOCUMENTS) + 1} 件（登记、初审、拟办、批办、分办、承办、答复、办结、归档、"
            "传阅、退文、手工登记、超期各有）。"
        )


def build_incoming_demo(stdout: Callable[[str], Any]) -> str:
    return IncomingDemo(stdout).build()
