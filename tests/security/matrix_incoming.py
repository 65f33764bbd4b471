"""Permission-matrix entries for the 收文 pages (workflows/views/incoming.py).

The 收文 here is 省府办公厅's document as 省财政厅 received it: its 收发员 (other_clerk) signed for
it and holds the 登记 task. Nobody else in the cast may see that 收文 (the sender's office sees its
own 发文, not the recipient's record): the same 404 as for a missing one. The 登记簿 and 收文登记
are each agency's office's own (收发员, 文秘, 办公室主任): the 省府办公厅's and 省财政厅's clerks
and the 省府办公厅's office roles get their own agency's page; everyone else 403.
"""

from __future__ import annotations

from typing import Any

INCOMING_OFFICES = {"clerk": 200, "other_clerk": 200, "office_secretary": 200, "office_director": 200}
HOLDER = {"other_clerk": 200}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "workflows:incoming_list": ("get", {"anonymous": 302, "*": 403, **INCOMING_OFFICES}),
    "workflows:incoming_export": ("get", {"anonymous": 302, "*": 403, **INCOMING_OFFICES}),
    "workflows:incoming_new": ("get", {"anonymous": 302, "*": 403, **INCOMING_OFFICES}),
    "workflows:incoming_task": ("get", {"anonymous": 302, "*": 404, **HOLDER}),
    "workflows:incoming_transfer": ("get", {"anonymous": 302, "*": 404, **HOLDER}),
    "workflows:incoming_sheet": ("get", {"anonymous": 302, "*": 404, **HOLDER}),
}


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from documents.exchange import distribute, receive
    from documents.models import IncomingRecord
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(cast, number="粤府办〔2026〕905号", cc_recipients=[])
    (record,) = distribute(document, actor=cast.office_secretary)
    receive(record, actor=cast.other_clerk)
    incoming = IncomingRecord.objects.get(exchange=record).document
    task = Task.objects.get(
        process__incomingprocess__document=incoming,
        flow_task_type="HUMAN",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )
    return {"incoming_task_id": task.pk, "incoming_document_id": incoming.pk}
