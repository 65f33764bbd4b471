"""The bare flows: the 发文 flow's shape in plain viewflow, with no business logic.

`BareFlow` is the baseline of issue 4's targets; `BareRoutedFlow` adds OutgoingFlow's Switch
gateways, to tell what the gateways cost from what our services add.

start → draft → dept_review → split into 3 countersign tasks → join → office_review → sign_off →
recheck → assign_number → typeset → seal → distribute → archive → end.

Every human node is a plain `flow.View` assigned at creation to a fixed user whose id the bench
passes at start (kept in viewflow's `Process.data`; the owner is set by id, no lookup). Same lock
as OutgoingFlow (`select_for_update_lock`). What it leaves out on purpose, being the business
logic the bench weighs: the `after_<step>` Switch gateways that route 退回, the assignment rules
(roles, 分管, delegations, candidates), participants, document state, opinions, audit events,
outbox rows, inbox data and live pushes, and each step's work.

Driven from code as workflows/services.py drives ours: `complete()` takes the process lock, locks
the task row, then `start` and `execute` on the activation.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.models import Process, Task
from viewflow.workflow.nodes.split import SplitActivation

# Human steps in order; "countersign" stands for its parallel tasks.
HUMAN_STEPS = [
    "draft",
    "dept_review",
    "countersign",
    "office_review",
    "sign_off",
    "recheck",
    "assign_number",
    "typeset",
    "seal",
    "distribute",
    "archive",
]


def no_view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Never mounted: the bench drives the flow from code."""
    raise NotImplementedError


def fixed_owner(activation: Any) -> Any:
    """The user the bench chose for this step (by id: an unsaved instance sets owner_id only)."""
    owners = activation.process.data["owners"]
    step = activation.flow_task.name
    if step == "countersign":
        return get_user_model()(pk=owners["countersign"][activation.task.data["party"]])
    return get_user_model()(pk=owners[step])


class PartiesSplitActivation(SplitActivation):
    """One countersign task per party, as OutgoingFlow's split does (viewflow 2.4 has no dynamic
    split); the parties here are just indexes."""

    @Activation.status.super()
    def activate(self) -> None:
        node = self.flow_task.flow_class.instance.countersign
        for party in range(len(self.process.data["owners"]["countersign"])):
            self.next_tasks.append((node, {"party": party}))


class PartiesSplit(flow.Split):
    activation_class = PartiesSplitActivation


class BareFlow(flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.draft)
    draft = flow.View(no_view).Assign(fixed_owner).Next(this.dept_review)
    dept_review = flow.View(no_view).Assign(fixed_owner).Next(this.countersign_split)
    countersign_split = PartiesSplit()
    countersign = flow.View(no_view).Assign(fixed_owner).Next(this.countersign_join)
    countersign_join = flow.Join().Next(this.office_review)
    office_review = flow.View(no_view).Assign(fixed_owner).Next(this.sign_off)
    sign_off = flow.View(no_view).Assign(fixed_owner).Next(this.recheck)
    recheck = flow.View(no_view).Assign(fixed_owner).Next(this.assign_number)
    assign_number = flow.View(no_view).Assign(fixed_owner).Next(this.typeset)
    typeset = flow.View(no_view).Assign(fixed_owner).Next(this.seal)
    seal = flow.View(no_view).Assign(fixed_owner).Next(this.distribute)
    distribute = flow.View(no_view).Assign(fixed_owner).Next(this.archive)
    archive = flow.View(no_view).Assign(fixed_owner).Next(this.end)
    end = flow.End()

    def start_process(self, activation: Any, owners: dict[str, Any]) -> Process:
        activation.process.data = {"owners": owners}
        return activation.process


class BareRoutedFlow(flow.Flow):
    """BareFlow plus OutgoingFlow's gateways: a Switch after each step as ours has (where 退回 is
    routed), each with only its default branch. Run beside BareFlow it tells what the gateways
    cost in viewflow from what our services add."""

    process_class = Process
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.draft)
    draft = flow.View(no_view).Assign(fixed_owner).Next(this.dept_review)
    dept_review = flow.View(no_view).Assign(fixed_owner).Next(this.after_dept_review)
    after_dept_review = flow.Switch().Default(this.countersign_split)
    countersign_split = PartiesSplit()
    countersign = flow.View(no_view).Assign(fixed_owner).Next(this.countersign_join)
    countersign_join = flow.Join().Next(this.after_countersign)
    after_countersign = flow.Switch().Default(this.office_review)
    office_review = flow.View(no_view).Assign(fixed_owner).Next(this.after_office_review)
    after_office_review = flow.Switch().Default(this.sign_off)
    sign_off = flow.View(no_view).Assign(fixed_owner).Next(this.after_sign_off)
    after_sign_off = flow.Switch().Default(this.recheck)
    recheck = flow.View(no_view).Assign(fixed_owner).Next(this.after_recheck)
    after_recheck = flow.Switch().Default(this.assign_number)
    assign_number = flow.View(no_view).Assign(fixed_owner).Next(this.after_assign_number)
    after_assign_number = flow.Switch().Default(this.typeset)
    typeset = flow.View(no_view).Assign(fixed_owner).Next(this.after_typeset)
    after_typeset = flow.Switch().Default(this.seal)
    seal = flow.View(no_view).Assign(fixed_owner).Next(this.after_seal)
    after_seal = flow.Switch().Default(this.distribute)
    distribute = flow.View(no_view).Assign(fixed_owner).Next(this.after_distribute)
    after_distribute = flow.Switch().Default(this.archive)
    archive = flow.View(no_view).Assign(fixed_owner).Next(this.end)
    end = flow.End()

    def start_process(self, activation: Any, owners: dict[str, Any]) -> Process:
        activation.process.data = {"owners": owners}
        return activation.process


def start(owners: dict[str, Any], flow_class: type[flow.Flow] = BareFlow) -> Process:
    """Start a process; `owners` maps each step to a user id ("countersign": a list of ids)."""
    with transaction.atomic():
        return flow_class.start.run(owners=owners)


def complete(task: Task) -> None:
    """Complete an assigned task the way our services do, minus everything they add."""
    with task.flow_task.flow_class.lock(task.process_id), transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        activation = locked.flow_task.activation_class(locked)
        activation.start(None)
        activation.execute()
