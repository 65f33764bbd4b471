"""Who gets each task of the 发文 flow, decided when viewflow creates it (the node's onCreate hook).

One person → the task is theirs (ASSIGNED). Several (all heads of a department, the office's 文秘)
→ the task stays unowned with `TaskCandidate` rows: 或签 / 抢办, the first to claim it wins.
Delegations (委托, scope 发文) are honoured through `officeapp.access.effective_assignees`. Every
candidate becomes a document `Participant`, so they may open the document; the document's state
follows the step; the inbox change is pushed after commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from viewflow.workflow.status import STATUS

from documents.models import DocumentState, OfficialDocument, Participant
from documents.services import add_participants, set_state
from officeapp.access import dept_heads_of, effective_assignees, with_delegates
from officeapp.org.models import DelegationScope, Role, User
from workflows.flows import STEP_LABELS
from workflows.live import push_inbox_changed
from workflows.models import OutgoingProcess, TaskCandidate
from workflows.urging import set_task_due


def role_holders(role: str, agency_id: int) -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, role_grants__role=role, role_grants__agency_id=agency_id)
        .distinct()
        .order_by("pk")
    )


def _with_delegates(users: QuerySet[User], document_id: int | None = None) -> list[User]:
    """The candidates with their current 发文 delegates read in the same query (`assign` then
    needs no delegation query of its own) and, given the document, whether each one already is
    one of its participants (on_task_created then inserts only the newcomers, often nobody)."""
    queryset = with_delegates(users, scope=DelegationScope.OUTGOING)
    if document_id is not None:
        listed = Participant.objects.filter(document_id=document_id, user_id=OuterRef("pk"))
        queryset = queryset.annotate(already_participant=Exists(listed))
    return list(queryset)


def _first_of(agency_id: int, *roles: str, document_id: int | None = None) -> list[User]:
    """Holders of the first role someone holds in the agency (a fallback chain)."""
    for role in roles:
        users = _with_delegates(role_holders(role, agency_id), document_id)
        if users:
            return users
    return []


def agency_leaders(agency_id: int) -> list[User]:
    return list(role_holders(Role.LEADER, agency_id))


def sealing_agency(process: OutgoingProcess) -> int:
    """The issuing agency whose 用印 comes next (joint issue: each in 署名 order)."""
    return int((process.seal_agencies or [process.document.agency_id])[0])


def candidates_for(step: str, process: OutgoingProcess, task_data: dict[str, Any]) -> list[User]:
    document = process.document
    agency_id = document.agency_id
    doc = document.pk
    office = (Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR)
    if step == "draft":
        # By id, not `document.drafter`: one query that also reads the drafter's delegate.
        return _with_delegates(User.objects.filter(pk=document.drafter_id), doc)
    if step == "dept_review":
        return _with_delegates(dept_heads_of(document.department_id), doc) or _first_of(
            agency_id, *office, document_id=doc
        )
    if step == "countersign":
        party = task_data.get("party") or {}
        if party.get("kind") == "agency":
            # Another agency countersigns through its office (the head there may hand it on: 转办).
            return _first_of(
                int(party["id"]), Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, Role.LEADER, document_id=doc
            )
        return _with_delegates(dept_heads_of(int(party.get("id", 0))), doc)
    if step == "sign_off":
        chain = process.sign_off_chain or []
        index = min(process.sign_off_index, len(chain) - 1) if chain else 0
        return _with_delegates(User.objects.filter(pk=chain[index], is_active=True), doc) if chain else []
    if step == "seal":
        return _first_of(sealing_agency(process), Role.SEAL_KEEPER, document_id=doc)
    if step == "distribute":
        return _first_of(agency_id, Role.OFFICE_SECRETARY, Role.CLERK, document_id=doc)
    if step == "archive":
        return _first_of(agency_id, Role.ARCHIVIST, Role.OFFICE_SECRETARY, document_id=doc)
    # office_review, recheck, assign_number, typeset: the office's 文秘.
    return _first_of(agency_id, *office, document_id=doc)


def fallback_candidates(document: OfficialDocument) -> list[User]:
    """Nobody holds the role (no 印章管理员 yet …): the office director takes it and can 转办, so a
    flow never waits on an empty role."""
    return _first_of(document.agency_id, Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY, document_id=document.pk)


def inbox_data(document: OfficialDocument, step: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = dict(extra or {})
    data.update(
        title=document.title,
        doc_number=document.doc_number,
        urgency=document.urgency,
        document_id=document.pk,
        step=step,
        step_label=STEP_LABELS.get(step, step),
        agency=document.agency.short_name or document.agency.name,
        drafter=document.drafter.real_name,
        department_id=document.department_id,
    )
    if document.deadline:
        data["deadline"] = document.deadline.isoformat()
    return data


def assign(task: Any, users: list[User], *, fresh: bool = False) -> list[User]:
    """Give the task to one person or to candidates; returns who may act. `fresh`: the task was
    just created and has no candidates to clear."""
    people = effective_assignees(users, scope=DelegationScope.OUTGOING)
    if not fresh:
        TaskCandidate.objects.filter(task=task).delete()
    if len(people) == 1:
        task.owner = people[0]
        task.status = STATUS.ASSIGNED
    else:
        task.owner = None
        task.status = STATUS.NEW
        TaskCandidate.objects.bulk_create([TaskCandidate(task=task, user=u) for u in people])
    return people


def owner_for(activation: Any) -> User | None:
    """viewflow's `.Assign` hook, run before the task is inserted: decide who gets it and fill its
    inbox data, so the row is written once — owned (ASSIGNED) when one person may act, unowned
    (NEW) for a group task. `on_task_created` finishes from what is kept on the activation."""
    task = activation.task
    process: OutgoingProcess = activation.process
    document = process.document
    step = task.flow_task.name
    data = task.data if isinstance(task.data, dict) else {}
    users = candidates_for(step, process, data) or fallback_candidates(document)
    people = effective_assignees(users, scope=DelegationScope.OUTGOING)
    task.data = inbox_data(document, step, data)
    activation.outgoing_assignment = (users, people)
    return people[0] if len(people) == 1 else None


def on_task_created(activation: Any) -> None:
    task = activation.task
    process: OutgoingProcess = activation.process
    document = process.document
    step = task.flow_task.name
    assigned = getattr(activation, "outgoing_assignment", None)
    if assigned is None:
        # A task created without the `.Assign` hook (none today): decide and write it here.
        owner = owner_for(activation)
        task.owner = owner
        task.status = STATUS.ASSIGNED if owner is not None else STATUS.NEW
        task.save(update_fields=["owner", "status", "data"])
        assigned = activation.outgoing_assignment
    users, people = assigned
    if len(people) > 1:
        TaskCandidate.objects.bulk_create([TaskCandidate(task=task, user=u) for u in people])
    if document.state != step:
        set_state(document, DocumentState(step))
    # Only those not yet listed (a delegate read apart from the candidates counts as new): the
    # office's 文秘 holds five steps of a document and is inserted once.
    newcomers = [u for u in [*people, *users] if not getattr(u, "already_participant", False)]
    if newcomers:
        add_participants(document, newcomers)
    if document.deadline:
        set_task_due(task, document.deadline)
    push_inbox_changed([u.pk for u in people], task_id=task.pk, action="created", title=document.title)
