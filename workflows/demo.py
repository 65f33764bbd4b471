"""The 发文 part of `load_demo`: documents of 省政府办公厅 in every state of the flow.

Every document is driven through the real services by the people who would act, so the demo's
inboxes, opinions, numbers, renderings, seals and exchange records are exactly what the product
makes. The fixed accounts of the README see their own work: lin.xiaomei a returned draft and a
fresh one, chen.zhiqiang a review, wang.deming a 签发, huang.lihua the office's steps, he.jun a
用印, deng.lan an 归档, li.guohua (省财政厅) the distributed documents in his 待签收.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocType, Retention, Urgency
from documents.services import create_draft
from officeapp.org.models import Agency, Department, User
from workflows import services
from workflows.models import Decision, TaskCandidate
from workflows.services import StepInput, party_for

BODY_OPENING = (
    "为深入贯彻落实省委、省政府决策部署，进一步做好相关工作，经省人民政府同意，现就有关事项通知如下。"
)


def body_for(topic: str) -> list[dict[str, str]]:
    return [
        {"kind": "p", "text": BODY_OPENING},
        {"kind": "h1", "text": "一、提高思想认识"},
        {
            "kind": "p",
            "text": f"各地各部门要充分认识{topic}的重要意义，把思想和行动统一到省委、省政府的部署上来。",
        },
        {"kind": "h2", "text": "（一）压实工作责任"},
        {"kind": "p", "text": "主要负责同志要亲自抓、负总责，分管负责同志要具体抓、抓具体。"},
        {"kind": "h2", "text": "（二）保障工作经费"},
        {"kind": "p", "text": f"各级财政要统筹安排{topic}工作所需资金，专款专用，严禁挤占挪用。"},
        {"kind": "h1", "text": "二、抓好工作落实"},
        {"kind": "h3", "text": "1.细化工作措施"},
        {"kind": "p", "text": f"要结合实际制定{topic}工作方案，明确时间表、路线图和责任人。"},
        {"kind": "h4", "text": "（1）加强督促检查"},
        {"kind": "p", "text": "省政府办公厅将适时对落实情况进行督查，督查结果予以通报。"},
        {"kind": "h1", "text": "三、及时报送情况"},
        {"kind": "p", "text": "请于每季度末将工作进展情况报送省政府办公厅。"},
    ]


@dataclass
class DemoDocument:
    title: str
    topic: str
    stop_at: str  # the step whose task stays open; "archived" or "terminated" for the ends
    doc_type: str = DocType.NOTICE
    urgency: str = Urgency.NORMAL
    countersign: list[str] = field(
        default_factory=list
    )  # department names of 省府办公厅 or agency short names
    countersigned: int = 0  # how many of the countersigns are already done when stop_at == "countersign"
    returned_from: str = ""  # a 退回 happened at this step first
    joint_with: str = ""  # short name of a co-issuing agency
    main: list[str] = field(default_factory=lambda: ["各地级以上市人民政府，省政府各部门、各直属机构"])
    cc: list[str] = field(default_factory=list)


DOCUMENTS: list[DemoDocument] = [
    DemoDocument(
        "关于做好2026年防汛防台风工作的通知",
        "防汛防台风",
        "archived",
        urgency=Urgency.URGENT,
        countersign=["综合二处", "督查室", "省财政厅"],
        cc=["省财政厅", "省应急管理厅"],
    ),
    DemoDocument(
        "关于印发《广东省政务服务事项办理规范》的通知",
        "政务服务规范化",
        "archived",
        cc=["省政务服务数据管理局"],
    ),
    DemoDocument(
        "关于2026年第三季度政务公开工作情况的通报",
        "政务公开",
        "archive",
        doc_type=DocType.CIRCULAR,
        cc=["省财政厅"],
    ),
    DemoDocument(
        "关于商请提供2026年度重点工作完成情况的函",
        "重点工作",
        "distribute",
        doc_type=DocType.LETTER,
        main=["省财政厅"],
    ),
    DemoDocument("关于开展安全生产大检查的通知", "安全生产大检查", "seal", urgency=Urgency.URGENT),
    DemoDocument("关于加强政务值班工作的通知", "政务值班", "typeset"),
    DemoDocument("关于做好2027年元旦春节期间有关工作的通知", "节日期间值班和安全", "assign_number"),
    DemoDocument("关于召开全省乡村振兴工作会议的通知", "乡村振兴", "recheck", countersign=["综合二处"]),
    DemoDocument(
        "关于申请省级防汛抗旱专项资金的请示",
        "防汛抗旱资金保障",
        "sign_off",
        doc_type=DocType.REQUEST,
        urgency=Urgency.URGENT,
        main=["广东省人民政府"],
    ),
    DemoDocument(
        "关于联合开展财政资金专项检查的通知",
        "财政资金专项检查",
        "sign_off",
        joint_with="省财政厅",
        countersign=["省财政厅"],
    ),
    DemoDocument(
        "关于进一步规范公文处理工作的意见", "公文处理规范化", "office_review", doc_type=DocType.OPINION
    ),
    DemoDocument(
        "关于做好数字政府建设2026年重点任务的通知",
        "数字政府建设",
        "countersign",
        countersign=["综合二处", "督查室", "省财政厅"],
        countersigned=1,
    ),
    DemoDocument("关于开展政务服务“好差评”工作的通知", "政务服务好差评", "dept_review"),
    DemoDocument("关于组织参加全省公文写作培训的通知", "公文写作培训", "draft", returned_from="dept_review"),
    DemoDocument("关于报送2026年度机关事务工作总结的通知", "机关事务工作总结", "draft"),
    DemoDocument("关于暂停某信息系统建设项目的通知", "项目管理", "terminated"),
]

OPINIONS = {
    "draft": "请审核。",
    "dept_review": "同意，请办公室审核。",
    "countersign": "同意。",
    "office_review": "行文依据充分，格式规范，拟请王德明同志签发。",
    "sign_off": "同意印发。",
    "recheck": "审批手续完备，同意编号。",
    "assign_number": "已编号。",
    "typeset": "清样已校对无误。",
    "seal": "已用印。",
    "distribute": "已分发。",
    "archive": "已归档。",
}


class OutgoingDemo:
    def __init__(self, stdout: Callable[[str], Any]) -> None:
        self.say = stdout
        self.office = (
            Agency.objects.get(code="GD-BGT") if Agency.objects.filter(code="GD-BGT").exists() else None
        )

    def agency(self, short: str) -> Agency | None:
        return Agency.objects.filter(short_name=short).first() or Agency.objects.filter(name=short).first()

    def party(self, name: str) -> dict[str, Any]:
        department = Department.objects.filter(agency=self.office, name=name).first()
        if department is not None:
            return party_for(department)
        agency = self.agency(name)
        if agency is None:
            raise ValueError(f"演示数据缺少机关：{name}")
        return party_for(agency)

    def open_tasks(self, process: Any) -> list[Task]:
        return list(
            Task.objects.filter(
                process=process, flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
            ).order_by("pk")
        )

    def actor_for(self, task: Task) -> User:
        if task.owner_id:
            return task.owner
        # A group task: the first candidate claims it, as in the office; huang.lihua when she may.
        candidates = list(TaskCandidate.objects.filter(task=task).select_related("user").order_by("user_id"))
        preferred = next((c.user for c in candidates if c.user.username == "huang.lihua"), None)
        user = preferred or candidates[0].user
        services.claim(task, actor=user)
        return user

    def act(self, task: Task, spec: DemoDocument, process: Any) -> None:
        step = task.flow_task.name
        actor = self.actor_for(task)
        step_input = StepInput(opinion=OPINIONS.get(step, "同意。"))
        if step == "draft":
            step_input.countersign_parties = [self.party(n) for n in spec.countersign]
        if step == "typeset":
            services.typeset_render(Task.objects.get(pk=task.pk), actor=actor)
        if step == "archive":
            step_input.retention = (
                Retention.YEARS_30 if spec.doc_type == DocType.CIRCULAR else Retention.PERMANENT
            )
        services.complete_step(Task.objects.get(pk=task.pk), actor=actor, step_input=step_input)

    def build_one(self, spec: DemoDocument, drafter: User) -> None:
        main = [a for a in (self.agency(n) for n in spec.main) if a is not None]
        main_text = "" if main else "；".join(spec.main)
        document = create_draft(
            actor=drafter,
            department=drafter.department,
            title=spec.title,
            doc_type=spec.doc_type,
            body=body_for(spec.topic),
            main_recipients=main,
            main_recipients_text=main_text,
            cc_recipients=[a for a in (self.agency(n) for n in spec.cc) if a is not None],
            co_issuers=[a for a in [self.agency(spec.joint_with)] if a is not None]
            if spec.joint_with
            else [],
            urgency=spec.urgency,
            disclosure="public",
        )
        process = services.start_outgoing(document, actor=drafter)
        if spec.stop_at == "terminated":
            services.complete_step(
                self.open_tasks(process)[0], actor=drafter, step_input=StepInput(opinion="请审核。")
            )
            director = User.objects.get(username="zhou.jianguo")
            services.terminate(process, actor=director, reason="项目已调整，不再发文")
            return
        returned = False
        countersigned = 0
        while True:
            tasks = self.open_tasks(process)
            if not tasks:
                return
            step = tasks[0].flow_task.name
            if spec.returned_from and step == spec.returned_from and not returned:
                actor = self.actor_for(tasks[0])
                services.complete_step(
                    Task.objects.get(pk=tasks[0].pk),
                    actor=actor,
                    step_input=StepInput(
                        decision=Decision.RETURN,
                        return_to="draft",
                        opinion="请补充培训对象和报名方式后再报。",
                    ),
                )
                returned = True
                continue
            if step == spec.stop_at and not (step == "countersign" and countersigned < spec.countersigned):
                return
            if step == "countersign" and spec.stop_at == "countersign":
                self.act(tasks[0], spec, process)
                countersigned += 1
                continue
            for task in tasks:
                self.act(task, spec, process)

    def seals(self) -> None:
        """Each agency that seals in the demo has its 电子印章 (image and key pair)."""
        from documents.sealing import active_seal, create_seal

        director = User.objects.get(username="zhou.jianguo")
        for agency in [self.office, self.agency("省财政厅")]:
            if agency is not None and active_seal(agency) is None:
                create_seal(agency, actor=director if agency == self.office else None)

    def build(self) -> str:
        if self.office is None:
            return ""
        self.seals()
        drafter = User.objects.get(username="lin.xiaomei")
        for spec in DOCUMENTS:
            with transaction.atomic():
                self.build_one(spec, drafter)
        return f"发文：{len(DOCUMENTS)} 件公文（拟稿、审核、会签、签发、复核、编号、排版、用印、分发、归档、终止各环节均有）。"


def build_outgoing_demo(stdout: Callable[[str], Any]) -> str:
    return OutgoingDemo(stdout).build()
