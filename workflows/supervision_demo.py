"""The 督办 part of `load_demo` ("50-supervision", after 发文, 收文 and 催办): 省府办公厅's 督查室
(郑海涛, zheng.haitao) supervises two dozen items across the 办公厅's 处室 and a few provincial
agencies, from 领导批示, 会议决定, 重要文件 (linked to the demo's 发文), 上级交办, 建议提案 and 群众反映 —
in every state of the flow, driven through the real services.

Among them: progress reports on schedule (and a 协办 unit's contribution), one extension approved
and one refused, a completion returned (退办/重办) and then accepted, a "not ours" at 签收, a new 批示
at 报送领导审阅, an item split (分解) into sub-items, and deadlines set relative to today so that the
lights show green, yellow and red. The demo province (officeapp/demo.py) has the people: the 督查员s
of 督查室, 办公室主任 周建国, 王德明 (分管 综合一处), 陈志强 (处长, 综合一处), 档案员 邓岚, and every
agency's office.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import OfficialDocument, Retention
from officeapp.access import dept_heads_of
from officeapp.calendar.workdays import add_working_days
from officeapp.org.models import Agency, Department, User
from workflows.models import (
    Decision,
    Importance,
    ItemState,
    ReportFrequency,
    ReportKind,
    SupervisionItem,
    SupervisionProcess,
    SupervisionSource,
    TaskCandidate,
)
from workflows.supervision import (
    SupervisionStepInput,
    claim_supervision,
    complete_supervision_step,
    decide_extension,
    initiate,
    request_extension,
    screen_extension,
    sign_off_report,
    split_item,
    write_report,
)
from workflows.supervision_assignment import unit_people

S = SupervisionSource


@dataclass
class DemoItem:
    title: str
    source: str
    lead: str  # a 处室 of 省府办公厅 ("综合二处") or an agency's short name ("省财政厅")
    stop_at: str  # the step whose task stays open, or "archived"
    co: list[str] = field(default_factory=list)
    light: str = "green"  # the deadline is set for this light once driven: green, yellow, red
    importance: str = Importance.NORMAL
    frequency: str = ReportFrequency.MONTHLY
    reports: int = 0  # progress reports written and signed at 承办
    co_report: bool = False  # a 协办 unit contributes to the lead's report
    extension: str = ""  # "approved", "refused", "pending"
    returned: bool = False  # the completion is returned once at 审核 (退办/重办)
    not_ours: bool = False  # the first lead unit says "not ours" at 签收; re-proposed to `relead`
    relead: str = ""
    new_instruction: bool = False  # a new 批示 at 报送领导审阅 loops back to 交办
    split: list[tuple[str, str]] = field(default_factory=list)  # (title, lead) sub-items
    document: bool = False  # linked to a 发文 of the demo
    instruction: str = ""
    received_days_ago: int = 20


ITEMS: list[DemoItem] = [
    DemoItem(
        "落实省政府常务会议关于优化营商环境的部署",
        S.MEETING,
        "综合一处",
        "handle",
        co=["综合二处"],
        reports=2,
        co_report=True,
        importance=Importance.CRITICAL,
    ),
    DemoItem(
        "推进政务服务“一网通办”事项全覆盖",
        S.INSTRUCTION,
        "综合一处",
        "handle",
        reports=1,
        light="yellow",
        instruction="请办公厅牵头，月底前拿出方案。",
    ),
    DemoItem(
        "省级财政资金直达基层情况专项督查",
        S.HIGHER,
        "省财政厅",
        "handle",
        reports=1,
        light="red",
        importance=Importance.IMPORTANT,
        received_days_ago=60,
    ),
    DemoItem("办理省人大代表关于农村公路养护的建议", S.PROPOSAL, "综合三处", "handle", reports=1),
    DemoItem(
        "推进高校毕业生就业创业工作",
        S.INSTRUCTION,
        "省教育厅",
        "handle",
        reports=1,
        extension="approved",
        instruction="请教育厅牵头，确保就业率稳中有升。",
    ),
    DemoItem(
        "整治群众反映的老旧小区加装电梯难问题",
        S.PUBLIC,
        "综合四处",
        "handle",
        reports=1,
        extension="refused",
        light="yellow",
    ),
    DemoItem(
        "贯彻落实《关于加强政务公开工作的通知》",
        S.DOCUMENT,
        "综合二处",
        "handle",
        document=True,
        reports=1,
        extension="pending",
    ),
    DemoItem(
        "推进数字政府基础能力均衡化建设",
        S.MEETING,
        "综合五处",
        "handle",
        reports=0,
        light="red",
        received_days_ago=45,
        frequency=ReportFrequency.WEEKLY,
    ),
    DemoItem(
        "全省安全生产大检查整改落实",
        S.INSTRUCTION,
        "综合一处",
        "handle",
        split=[("珠三角地区整改落实", "综合二处"), ("粤东西北地区整改落实", "综合三处")],
        importance=Importance.CRITICAL,
        instruction="请分解落实到各处室，按周报送进展。",
    ),
    DemoItem("完善政府信息公开申请办理机制", S.OTHER, "秘书处", "register", received_days_ago=1),
    DemoItem("推动重点民生实事项目落地", S.MEETING, "综合二处", "propose", received_days_ago=2),
    DemoItem("规范政府合同管理工作", S.DOCUMENT, "综合三处", "approve", document=True, received_days_ago=3),
    DemoItem("加强全省防汛备汛工作", S.INSTRUCTION, "综合四处", "assign", received_days_ago=3),
    DemoItem("推进乡村振兴驻镇帮镇扶村工作", S.HIGHER, "综合五处", "accept", received_days_ago=5),
    DemoItem(
        "清理拖欠中小企业账款",
        S.PUBLIC,
        "综合三处",
        "propose",
        not_ours=True,
        received_days_ago=8,
    ),
    DemoItem(
        "建立督查检查考核计划管理制度",
        S.OTHER,
        "综合一处",
        "review",
        reports=1,
        returned=True,
        received_days_ago=40,
    ),
    DemoItem("提升12345热线办理质效", S.PUBLIC, "综合二处", "review", reports=2, received_days_ago=35),
    DemoItem(
        "推进“粤省事”平台适老化改造",
        S.INSTRUCTION,
        "综合一处",
        "leader_review",
        reports=1,
        instruction="请加快改造，年内完成。",
        received_days_ago=50,
    ),
    DemoItem(
        "做好重要农产品稳产保供",
        S.INSTRUCTION,
        "综合四处",
        "accept",
        new_instruction=True,
        instruction="请抓紧落实。",
        received_days_ago=55,
    ),
    DemoItem("落实减税降费政策效果评估", S.HIGHER, "省财政厅", "close", reports=1, received_days_ago=70),
    DemoItem(
        "办理政协委员关于职业教育发展的提案",
        S.PROPOSAL,
        "省教育厅",
        "archive",
        reports=1,
        received_days_ago=80,
    ),
    DemoItem(
        "规范公文处理“限时办结”制度",
        S.DOCUMENT,
        "综合一处",
        "archived",
        document=True,
        reports=1,
        returned=True,
        received_days_ago=90,
    ),
    DemoItem(
        "2026年第一季度重点工作督查", S.MEETING, "综合二处", "archived", reports=2, received_days_ago=100
    ),
]


class SupervisionDemo:
    def __init__(self, stdout: Callable[[str], Any]) -> None:
        self.say = stdout
        self.office = Agency.objects.filter(code="GD-BGT").first()
        self.today = timezone.localdate()

    # --- people and units ----------------------------------------------------------------------

    def person(self, username: str) -> User:
        return User.objects.get(username=username)

    def unit(self, name: str) -> Department | Agency:
        department = Department.objects.filter(agency=self.office, name=name).first()
        if department is not None:
            return department
        return Agency.objects.get(short_name=name)

    def reporter(self, unit: Department | Agency) -> User:
        """Who writes the unit's reports: a staff member of the department (not its head), or the
        agency's office director."""
        if isinstance(unit, Department):
            heads = set(dept_heads_of(unit).values_list("pk", flat=True))
            staff = User.objects.filter(department=unit, is_active=True).exclude(pk__in=heads).order_by("pk")
            return staff.first() or self.head(unit)
        return self.head(unit)

    def head(self, unit: Department | Agency) -> User:
        if isinstance(unit, Department):
            people = unit_people(department_id=unit.pk)
        else:
            people = unit_people(agency_id=unit.pk)
        return people[0]

    # --- the flow -------------------------------------------------------------------------------

    def open_tasks(self, item: SupervisionItem) -> list[Task]:
        process = SupervisionProcess.objects.get(item=item)
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
        claim_supervision(task, actor=candidate.user)
        return candidate.user

    def act(self, task: Task, step_input: SupervisionStepInput) -> None:
        actor = self.actor_for(task)
        complete_supervision_step(Task.objects.get(pk=task.pk), actor=actor, step_input=step_input)

    def report(self, item: SupervisionItem, n: int, *, kind: str = ReportKind.PROGRESS) -> None:
        item.refresh_from_db()
        lead = item.lead_department or item.lead_agency
        assert lead is not None
        percentage = 100 if kind == ReportKind.COMPLETION else min(90, 30 * n)
        text = (
            f"{item.title}：各项任务已全部完成，成效明显。"
            if kind == ReportKind.COMPLETION
            else f"第{n}次进展：已完成阶段性任务，正按计划推进。"
        )
        report = write_report(item, actor=self.reporter(lead), kind=kind, text=text, percentage=percentage)
        sign_off_report(report, actor=self.head(lead))

    def handle(self, item: SupervisionItem, spec: DemoItem, *, finish: bool, round_: int) -> None:
        """承办: reports on schedule, a 协办 contribution, an extension; then (to move on) the 办结报告."""
        if round_ == 0:
            if spec.co_report and item.co_units:
                co = self.unit(item.co_units[0]["label"])
                contribution = write_report(
                    item, actor=self.reporter(co), text="协办单位已按分工完成配合工作。", percentage=50
                )
                sign_off_report(contribution, actor=self.head(co))
            for n in range(1, spec.reports + 1):
                self.report(item, n)
            if spec.extension:
                self.extension(item, spec.extension)
            if spec.split:
                parts = [
                    {
                        "title": title,
                        "lead_unit": self.unit(lead),
                        "due_on": item.due_on,
                        "report_frequency": ReportFrequency.WEEKLY,
                    }
                    for title, lead in spec.split
                ]
                for child, stop in zip(
                    split_item(item, actor=self.person("zheng.haitao"), parts=parts),
                    ("handle", "accept"),
                    strict=False,
                ):
                    self.drive(child, DemoItem(child.title, spec.source, "", stop, reports=1))
        if finish:
            self.report(item, spec.reports + 1, kind=ReportKind.COMPLETION)

    def extension(self, item: SupervisionItem, outcome: str) -> None:
        item.refresh_from_db()
        lead = item.lead_department or item.lead_agency
        assert lead is not None and item.due_on is not None
        ext = request_extension(
            item,
            actor=self.head(lead),
            reason="涉及多个部门协调，需补充调研。",
            progress="已完成方案起草和征求意见。",
            new_due_on=item.due_on + timedelta(days=20),
        )
        if outcome == "pending":
            return
        supervisor = self.person("zheng.haitao")
        screen_extension(ext, actor=supervisor, forward=True, note="情况属实，建议同意。")
        from workflows.supervision_assignment import responsible_leader

        leader = responsible_leader(item)
        assert leader is not None
        decide_extension(
            ext,
            actor=leader,
            approve=outcome == "approved",
            note="同意延期。" if outcome == "approved" else "请按原时限完成。",
        )

    def step_input(
        self, step: str, item: SupervisionItem, spec: DemoItem, seen: dict[str, int]
    ) -> SupervisionStepInput:
        opinions = {
            "register": "",
            "propose": f"拟请{item.lead_label}牵头办理，按{item.get_report_frequency_display()}报送进展。",
            "approve": "同意。",
            "assign": "",
            "accept": "已签收，抓紧办理。",
            "review": "办理情况属实，审核通过。",
            "leader_review": "已阅，同意销号。",
            "close": "已办结，予以销号。",
            "archive": "",
        }
        step_input = SupervisionStepInput(opinion=opinions.get(step, "同意。"))
        if step == "accept" and spec.not_ours and not seen.get("not_ours"):
            seen["not_ours"] = 1
            return SupervisionStepInput(
                decision=Decision.NOT_OURS, opinion="该事项主要涉及综合三处职责，请重新交办。"
            )
        if step == "propose" and spec.not_ours and seen.get("not_ours") == 1 and spec.relead:
            seen["not_ours"] = 2
            step_input.changes = {"lead_unit": self.unit(spec.relead)}
        if step == "review" and spec.returned and not seen.get("returned"):
            seen["returned"] = 1
            return SupervisionStepInput(
                decision=Decision.DISAGREE, opinion="办结报告缺少具体数据，请补充后重报。"
            )
        if step == "leader_review" and spec.new_instruction and not seen.get("instruction"):
            seen["instruction"] = 1
            return SupervisionStepInput(instruction="成效还需巩固，请继续跟踪落实，下季度再报。")
        if step == "archive":
            step_input.retention = Retention.YEARS_10
        return step_input

    def drive(self, item: SupervisionItem, spec: DemoItem) -> None:
        seen: dict[str, int] = {}
        handled = 0
        while True:
            tasks = self.open_tasks(item)
            if not tasks:
                return
            task = tasks[0]
            step = task.flow_task.name
            # The not-ours loop and the new 批示 loop come back to a step: stop there the second time.
            if step == spec.stop_at and not self._loops_pending(step, spec, seen):
                if step == "handle":
                    self.handle(item, spec, finish=False, round_=handled)
                return
            if step == "handle":
                self.handle(item, spec, finish=True, round_=handled)
                handled += 1
                continue
            self.act(task, self.step_input(step, item, spec, seen))
            item.refresh_from_db()

    def _loops_pending(self, step: str, spec: DemoItem, seen: dict[str, int]) -> bool:
        if spec.not_ours and step == "propose" and not seen.get("not_ours"):
            return True
        if spec.new_instruction and step == "accept" and not seen.get("instruction"):
            return True
        return bool(spec.returned and step == "review" and not seen.get("returned"))

    # --- lights -----------------------------------------------------------------------------------

    def set_light(self, item: SupervisionItem, light: str) -> None:
        """Deadlines relative to today: red overdue, yellow within the warning window, green far."""
        from workflows.supervision_lights import refresh_light

        item.refresh_from_db()
        if item.state not in (ItemState.ACCEPT, ItemState.HANDLE, ItemState.REVIEW, ItemState.LEADER_REVIEW):
            refresh_light(item)
            return
        due: date
        if light == "red":
            due = self.today - timedelta(days=5)
        elif light == "yellow":
            due = add_working_days(self.today, 2).due_on
        else:
            refresh_light(item)
            return
        SupervisionItem.objects.filter(pk=item.pk).update(due_on=due)
        item.refresh_from_db()
        refresh_light(item)

    # --- build ------------------------------------------------------------------------------------

    def documents(self) -> list[OfficialDocument]:
        return list(
            OfficialDocument.objects.filter(agency=self.office).exclude(doc_number="").order_by("pk")[:5]
        )

    def build_one(self, spec: DemoItem, document: OfficialDocument | None) -> SupervisionItem:
        supervisor = self.person("zheng.haitao")
        leader = self.person("wang.deming")
        lead = self.unit(spec.lead)
        co = [self.unit(name) for name in spec.co]
        received = self.today - timedelta(days=spec.received_days_ago)
        # The 督查员 cannot open the 办公厅's 发文 himself; the 办公室主任 registers document items.
        actor = self.person("zhou.jianguo") if document is not None else supervisor
        relead = "综合三处" if spec.not_ours else ""
        if spec.not_ours:
            lead = self.unit("综合二处")
        item = initiate(
            actor=actor,
            agency=self.office,
            source=spec.source,
            title=spec.title,
            requirement="按要求抓好落实，按时报送进展情况。",
            instruction=spec.instruction,
            source_object=document,
            source_label="" if document is not None else self.source_label(spec.source),
            lead_unit=lead,
            co_units=co,
            received_on=received,
            due_on=self.today + timedelta(days=45),
            report_frequency=spec.frequency,
            importance=spec.importance,
            leader=leader if spec.source == S.INSTRUCTION else None,
        )
        spec.relead = relead
        self.drive(item, spec)
        self.set_light(item, spec.light)
        return item

    def source_label(self, source: str) -> str:
        return {
            S.MEETING: "省政府第12次常务会议纪要",
            S.INSTRUCTION: "王德明副主任批示",
            S.HIGHER: "国务院办公厅督查通知",
            S.PROPOSAL: "省十四届人大二次会议第1023号建议",
            S.PUBLIC: "12345热线群众来电汇总",
        }.get(source, "")

    def build(self) -> str:
        if self.office is None or not User.objects.filter(username="zheng.haitao").exists():
            return ""
        if SupervisionItem.objects.filter(agency=self.office).exists():
            return "督办：已有督办事项，未重复生成。"
        documents = iter(self.documents())
        for spec in ITEMS:
            with transaction.atomic():
                document = next(documents, None) if spec.document else None
                self.build_one(spec, document)
        items = SupervisionItem.objects.filter(agency=self.office)
        lights = {light: items.filter(light=light).count() for light in ("green", "yellow", "red")}
        return (
            f"督办：省府办公厅督查室 {items.count()} 项（含子事项），"
            f"绿灯 {lights['green']}、黄灯 {lights['yellow']}、红灯 {lights['red']}；"
            "延期批准与不批准、退办重办、非本单位职责、新批示、分解各有。"
        )


def build_supervision_demo(stdout: Callable[[str], Any]) -> str:
    return SupervisionDemo(stdout).build()
