"""The 发文 flow (flows.md §1): nodes named as in GLOSSARY.md; every step calls a service.

draft → dept_review → countersign (0..n parties chosen at run time, in parallel) → office_review →
sign_off (one or more leaders in order; joint issue: each agency's leader) → recheck →
assign_number → typeset → seal (each issuing agency) → distribute → archive → end.

Routing: a human step's service sets `process.route` before completing the task: "next", or the
name of an earlier step for 退回. The `after_<step>` Switch after each step reads it (evaluated by
the step's own node, RoutedView, without a gateway task of its own). Who gets a task is decided
in `assignment.py` (roles, 分管, delegations) from the `.Assign` hook, before viewflow inserts the
task (so the row is written once, already assigned, with its inbox data); the `onCreate` hook then
records candidates and participants and pushes the inbox change after commit.

Import paths of this module and its node names are stored in viewflow's tables: never rename them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.join import JoinActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.token import Token

from workflows.models import IncomingProcess, OutgoingProcess, SupervisionProcess

# The human steps in order, with their labels (GLOSSARY.md). 退回 may target any earlier one.
STEPS: list[tuple[str, str]] = [
    ("draft", "拟稿"),
    ("dept_review", "处室审核"),
    ("countersign", "会签"),
    ("office_review", "办公室审核"),
    ("sign_off", "签发"),
    ("recheck", "复核"),
    ("assign_number", "编号"),
    ("typeset", "排版校对"),
    ("seal", "用印"),
    ("distribute", "分发"),
    ("archive", "归档"),
]
STEP_LABELS = dict(STEPS)
STEP_ORDER = [name for name, _ in STEPS]


def earlier_steps(step: str) -> list[str]:
    """Steps a 退回 from `step` may target (会签 is re-run through its split)."""
    return STEP_ORDER[: STEP_ORDER.index(step)]


def not_mounted(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """viewflow's own task views are not mounted: our task page (workflows/views/tasks.py) drives
    each task through workflows/services.py, which checks who may act."""
    raise NotImplementedError


class CountersignSplitActivation(SplitActivation):
    """One 会签 task per party chosen at run time (viewflow 2.4 has no dynamic split)."""

    @Activation.status.super()
    def activate(self) -> None:
        parties = list(self.process.countersign_parties or [])
        for party in parties:
            self.next_tasks.append((self.flow_task.flow_class.instance.countersign, {"party": party}))
        if not self.next_tasks:
            # The route into the split checks for parties; reaching here empty is a bug.
            raise ValueError("countersign split without parties")


class CountersignSplit(flow.Split):
    activation_class = CountersignSplitActivation


def _switch_target(switch: flow.Switch, activation: Any) -> Any:
    """The node a Switch would choose: the first Case whose condition holds, else its Default."""
    chosen = None
    for node, condition in switch._branches:
        if condition is None:
            chosen = chosen or node
        elif condition(activation):
            return node
    if chosen is None:
        raise ValueError(f"{switch.name}: no branch to follow")
    return chosen


class RoutedViewActivation(ViewActivation):
    """A human step followed by its `after_<step>` Switch: the switch's choice is made here, from
    the step's own activation (the conditions read only `activation.process`), and the chosen node
    is created directly. The gateway stays in the graph (and in the tasks of earlier processes)
    but writes no task row of its own: viewflow's Switch costs five statements per step (its task,
    the link, a savepoint and the update to DONE) that 退回's routing does not need stored."""

    @Activation.status.super()
    def create_next(self) -> Any:
        switch = self.flow_task._next
        if isinstance(switch, flow.Switch):
            yield _switch_target(switch, self)._create(self, self.task.token)
        else:
            yield from super().create_next.original()


class RoutedView(flow.View):
    activation_class = RoutedViewActivation


class RoutedJoinActivation(JoinActivation):
    """The 会签 Join followed by `after_countersign`: chosen here, as RoutedViewActivation does."""

    @Activation.status.super()
    def create_next(self) -> Any:
        switch = self.flow_task._next
        if isinstance(switch, flow.Switch):
            yield _switch_target(switch, self)._create(self, self.task.token)
        else:
            yield from super().create_next.original()


class RoutedJoin(flow.Join):
    activation_class = RoutedJoinActivation


def next_split_token(split_task: Any) -> Token:
    """A token for one more 会签 task (加签) under an existing split, so the Join waits for it too."""
    prefix = f"{split_task.token}/{split_task.pk}_"
    used = [
        int(str(t.token)[len(prefix) :].split("/", 1)[0])
        for t in split_task.leading.all()
        if str(t.token).startswith(prefix)
    ]
    return Token(f"{prefix}{max(used, default=0) + 1}")


def _route_is(step: str) -> Callable[[Any], bool]:
    return lambda activation: activation.process.route == step


def _routes_back(switch: Any, step: str) -> Any:
    """Cases for 退回 from `step` to each earlier step (会签 goes through its split again)."""
    for target in earlier_steps(step):
        node = getattr(this, "countersign_split" if target == "countersign" else target)
        switch = switch.Case(node, _route_is(target))
    return switch


def _has_parties(activation: Any) -> bool:
    return bool(activation.process.countersign_parties)


def _countersign_objection(activation: Any) -> bool:
    return bool(activation.process.countersign_objection)


def _more_signers(activation: Any) -> bool:
    process = activation.process
    return process.sign_off_index < len(process.sign_off_chain or [])


def _more_seals(activation: Any) -> bool:
    return bool(activation.process.seal_agencies)


class OutgoingFlow(flow.Flow):
    process_class = OutgoingProcess
    process_title = "发文"
    process_description = "拟稿、审核、会签、签发、复核、编号、排版、用印、分发、归档"
    # Parallel 会签 branches complete concurrently: without a row lock the Join can miss one.
    lock_impl = lock.select_for_update_lock
    # Our task page (workflows/views/tasks.py). Not stored in each task's data: a task is inserted
    # already assigned (`.Assign`), before its id is known; the inbox and 催办 format it.
    task_page = "/workflows/tasks/{}/"

    start = flow.StartHandle(this.start_process).Next(this.draft)

    draft = (
        RoutedView(not_mounted)
        .Annotation(title="拟稿")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.dept_review)
    )

    dept_review = (
        RoutedView(not_mounted)
        .Annotation(title="处室审核")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_dept_review)
    )
    after_dept_review = (
        _routes_back(flow.Switch(), "dept_review")
        .Case(this.countersign_split, _has_parties)
        .Default(this.office_review)
    )

    countersign_split = CountersignSplit()
    countersign = (
        RoutedView(not_mounted)
        .Annotation(title="会签")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.countersign_join)
    )
    countersign_join = RoutedJoin().Next(this.after_countersign)
    # 会签 disagreement that nobody resolved goes back to the drafter with the opinions.
    after_countersign = flow.Switch().Case(this.draft, _countersign_objection).Default(this.office_review)

    office_review = (
        RoutedView(not_mounted)
        .Annotation(title="办公室审核")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_office_review)
    )
    after_office_review = _routes_back(flow.Switch(), "office_review").Default(this.sign_off)

    sign_off = (
        RoutedView(not_mounted)
        .Annotation(title="签发")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_sign_off)
    )
    after_sign_off = (
        _routes_back(flow.Switch(), "sign_off").Case(this.sign_off, _more_signers).Default(this.recheck)
    )

    recheck = (
        RoutedView(not_mounted)
        .Annotation(title="复核")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_recheck)
    )
    # A substantive change at 复核 routes "sign_off": back to the signer.
    after_recheck = _routes_back(flow.Switch(), "recheck").Default(this.assign_number)

    assign_number = (
        RoutedView(not_mounted)
        .Annotation(title="编号")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_assign_number)
    )
    after_assign_number = _routes_back(flow.Switch(), "assign_number").Default(this.typeset)

    typeset = (
        RoutedView(not_mounted)
        .Annotation(title="排版校对")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_typeset)
    )
    after_typeset = _routes_back(flow.Switch(), "typeset").Default(this.seal)

    seal = (
        RoutedView(not_mounted)
        .Annotation(title="用印")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_seal)
    )
    after_seal = _routes_back(flow.Switch(), "seal").Case(this.seal, _more_seals).Default(this.distribute)

    distribute = (
        RoutedView(not_mounted)
        .Annotation(title="分发")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.after_distribute)
    )
    after_distribute = _routes_back(flow.Switch(), "distribute").Default(this.archive)

    archive = (
        RoutedView(not_mounted)
        .Annotation(title="归档")
        .Assign(this.task_owner)
        .onCreate(this.task_created)
        .Next(this.end)
    )

    end = flow.End()

    def start_process(self, activation: Any, document: Any) -> OutgoingProcess:
        activation.process.document = document
        return activation.process

    def task_owner(self, activation: Any) -> Any:
        from workflows.assignment import owner_for

        return owner_for(activation)

    def task_created(self, activation: Any) -> None:
        from workflows.assignment import on_task_created

        on_task_created(activation)


# --- 收文 (flows.md §2) -----------------------------------------------------------------------

# The human steps of the 收文 flow in order, with their labels (GLOSSARY.md). 签收 is the start:
# the 收发员's 签收 of an exchange record (or a registration by hand) opens the process.
INCOMING_STEPS: list[tuple[str, str]] = [
    ("register", "登记"),
    ("screen", "初审"),
    ("propose", "拟办"),
    ("instruct", "批办"),
    ("assign", "分办"),
    ("handle", "承办"),
    ("reply", "答复"),
    ("complete", "办结"),
    ("archive", "归档"),
]
INCOMING_STEP_LABELS = {"receive": "签收", **dict(INCOMING_STEPS)}
INCOMING_STEP_ORDER = [name for name, _ in INCOMING_STEPS]


def incoming_earlier_steps(step: str) -> list[str]:
    """Steps a 退回 from `step` may target (承办 is re-run through 分办)."""
    return [s for s in INCOMING_STEP_ORDER[: INCOMING_STEP_ORDER.index(step)] if s != "handle"]


class HandleSplitActivation(SplitActivation):
    """One 承办 task per unit named at 批办/分办: the 主办 unit and each 协办 unit, in parallel."""

    @Activation.status.super()
    def activate(self) -> None:
        from workflows.incoming_assignment import handling_units

        for unit in handling_units(self.process):
            self.next_tasks.append((self.flow_task.flow_class.instance.handle, {"unit": unit}))
        if not self.next_tasks:
            raise ValueError("handle split without units")


class HandleSplit(flow.Split):
    activation_class = HandleSplitActivation


def _incoming_routes_back(switch: Any, step: str) -> Any:
    for target in incoming_earlier_steps(step):
        switch = switch.Case(getattr(this, target), _route_is(target))
    return switch


def _for_reading(activation: Any) -> bool:
    return activation.process.handling_kind == "reading"


def _has_units(activation: Any) -> bool:
    return activation.process.lead_unit_id is not None


def _some_not_ours(activation: Any) -> bool:
    return bool(activation.process.not_ours)


class IncomingFlow(flow.Flow):
    """签收 → 登记 → 初审 → 拟办 → 批办 → 分办 → 承办 (parallel units) → 答复 → 办结 → 归档.

    Routing as in the 发文 flow: each step's service sets `process.route` ("next", an earlier step
    for 退回, "returned" for 退文 at 初审); the Switch after the step reads it. 阅知性 documents skip
    批办 and go from 拟办 to 分办 (传阅 only). Who gets a task: workflows/incoming_assignment.py.
    Import path and node names are stored in viewflow's tables: never rename them."""

    process_class = IncomingProcess
    process_title = "收文"
    process_description = "签收、登记、初审、拟办、批办、分办、承办、答复、办结、归档"
    lock_impl = lock.select_for_update_lock

    receive = flow.StartHandle(this.start_process).Next(this.register)

    register = flow.View(not_mounted).Annotation(title="登记").onCreate(this.task_created).Next(this.screen)

    screen = (
        flow.View(not_mounted).Annotation(title="初审").onCreate(this.task_created).Next(this.after_screen)
    )
    after_screen = (
        _incoming_routes_back(flow.Switch(), "screen")
        .Case(this.returned, _route_is("returned"))
        .Default(this.propose)
    )

    propose = (
        flow.View(not_mounted).Annotation(title="拟办").onCreate(this.task_created).Next(this.after_propose)
    )
    after_propose = (
        _incoming_routes_back(flow.Switch(), "propose").Case(this.assign, _for_reading).Default(this.instruct)
    )

    instruct = (
        flow.View(not_mounted).Annotation(title="批办").onCreate(this.task_created).Next(this.after_instruct)
    )
    after_instruct = _incoming_routes_back(flow.Switch(), "instruct").Default(this.assign)

    assign = (
        flow.View(not_mounted).Annotation(title="分办").onCreate(this.task_created).Next(this.after_assign)
    )
    after_assign = (
        _incoming_routes_back(flow.Switch(), "assign")
        .Case(this.handle_split, _has_units)
        .Default(this.complete)
    )

    handle_split = HandleSplit()
    handle = (
        flow.View(not_mounted).Annotation(title="承办").onCreate(this.task_created).Next(this.handle_join)
    )
    handle_join = flow.Join().Next(this.after_handle)
    # A unit said "not ours": back to 分办 with the reasons, once every unit has answered.
    after_handle = flow.Switch().Case(this.assign, _some_not_ours).Default(this.reply)

    reply = flow.View(not_mounted).Annotation(title="答复").onCreate(this.task_created).Next(this.after_reply)
    after_reply = _incoming_routes_back(flow.Switch(), "reply").Default(this.complete)

    complete = (
        flow.View(not_mounted).Annotation(title="办结").onCreate(this.task_created).Next(this.after_complete)
    )
    after_complete = _incoming_routes_back(flow.Switch(), "complete").Default(this.archive)

    archive = flow.View(not_mounted).Annotation(title="归档").onCreate(this.task_created).Next(this.end)

    end = flow.End()
    # 退文 at 初审: the document went back to the sender; the process ends here.
    returned = flow.End()

    def start_process(self, activation: Any, document: Any) -> IncomingProcess:
        activation.process.document = document
        return activation.process

    def task_created(self, activation: Any) -> None:
        from workflows.incoming_assignment import on_task_created

        on_task_created(activation)


# --- 督查督办 (flows.md §3) -----------------------------------------------------------------------

# The human steps of the 督办 flow in order (GLOSSARY.md, flows.md §3). 立项 is the start: the
# 督查员's registration of an item (from a 批示, a document, a meeting …) opens the process.
SUPERVISION_STEPS: list[tuple[str, str]] = [
    ("register", "登记编号"),
    ("propose", "拟办"),
    ("approve", "审定"),
    ("assign", "交办"),
    ("accept", "签收"),
    ("handle", "承办"),
    ("review", "审核"),
    ("leader_review", "报送领导审阅"),
    ("close", "销号"),
    ("archive", "归档"),
]
SUPERVISION_STEP_LABELS = {"initiate": "立项", **dict(SUPERVISION_STEPS)}
SUPERVISION_STEP_ORDER = [name for name, _ in SUPERVISION_STEPS]


def supervision_earlier_steps(step: str) -> list[str]:
    """Steps a 退回 from `step` may target."""
    return SUPERVISION_STEP_ORDER[: SUPERVISION_STEP_ORDER.index(step)]


def _supervision_routes_back(switch: Any, step: str) -> Any:
    for target in supervision_earlier_steps(step):
        switch = switch.Case(getattr(this, target), _route_is(target))
    return switch


class SupervisionFlow(flow.Flow):
    """立项 → 登记编号 → 拟办 → 审定 → 交办 (督办通知单) → 签收 (or "not ours" back to 拟办) → 承办
    (progress reports on schedule; the 办结报告 completes it) → 审核 (退办/重办 back to 承办) →
    报送领导审阅 (a new 批示 loops back to 交办) → 销号 → 归档.

    Routing as in the other flows: the step's service sets `process.route`; the Switch reads it.
    Sub-items (分解) are items of their own with their own process, started by a service.
    Who gets a task: workflows/supervision_assignment.py. Never rename the module, class or nodes."""

    process_class = SupervisionProcess
    process_title = "督办"
    process_description = "立项、登记编号、拟办、审定、交办、签收、承办、审核、领导审阅、销号、归档"
    lock_impl = lock.select_for_update_lock

    initiate = flow.StartHandle(this.start_process).Next(this.register)

    register = (
        flow.View(not_mounted).Annotation(title="登记编号").onCreate(this.task_created).Next(this.propose)
    )
    propose = (
        flow.View(not_mounted).Annotation(title="拟办").onCreate(this.task_created).Next(this.after_propose)
    )
    after_propose = _supervision_routes_back(flow.Switch(), "propose").Default(this.approve)

    approve = (
        flow.View(not_mounted).Annotation(title="审定").onCreate(this.task_created).Next(this.after_approve)
    )
    after_approve = _supervision_routes_back(flow.Switch(), "approve").Default(this.assign)

    assign = (
        flow.View(not_mounted).Annotation(title="交办").onCreate(this.task_created).Next(this.after_assign)
    )
    after_assign = _supervision_routes_back(flow.Switch(), "assign").Default(this.accept)

    accept = (
        flow.View(not_mounted).Annotation(title="签收").onCreate(this.task_created).Next(this.after_accept)
    )
    # "Not ours": back to 拟办 with the reason (route "propose").
    after_accept = _supervision_routes_back(flow.Switch(), "accept").Default(this.handle)

    handle = (
        flow.View(not_mounted).Annotation(title="承办").onCreate(this.task_created).Next(this.after_handle)
    )
    after_handle = _supervision_routes_back(flow.Switch(), "handle").Default(this.review)

    review = (
        flow.View(not_mounted).Annotation(title="审核").onCreate(this.task_created).Next(this.after_review)
    )
    # 退办/重办: route "handle".
    after_review = _supervision_routes_back(flow.Switch(), "review").Default(this.leader_review)

    leader_review = (
        flow.View(not_mounted)
        .Annotation(title="报送领导审阅")
        .onCreate(this.task_created)
        .Next(this.after_leader_review)
    )
    # A new 批示: route "assign" (a new 交办).
    after_leader_review = _supervision_routes_back(flow.Switch(), "leader_review").Default(this.close)

    close = flow.View(not_mounted).Annotation(title="销号").onCreate(this.task_created).Next(this.after_close)
    after_close = _supervision_routes_back(flow.Switch(), "close").Default(this.archive)

    archive = flow.View(not_mounted).Annotation(title="归档").onCreate(this.task_created).Next(this.end)

    end = flow.End()

    def start_process(self, activation: Any, item: Any) -> SupervisionProcess:
        activation.process.item = item
        return activation.process

    def task_created(self, activation: Any) -> None:
        from workflows.supervision_assignment import on_task_created

        on_task_created(activation)
