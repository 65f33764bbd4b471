"""Who may open a document: participants, the issuing agency's office, its 收发员 from 分发 on,
recipients' clerks after distribution; nobody else."""

from __future__ import annotations

from typing import Any

from documents.access import can_view
from documents.models import DocumentState
from documents.services import set_state
from tests.documents.factories import make_document


def test_the_issuing_agencys_clerk_sees_a_document_only_from_distribution_on(cast: Any) -> None:
    document = make_document(cast)
    assert not can_view(cast.clerk, document)

    set_state(document, DocumentState.DISTRIBUTE)

    assert can_view(cast.clerk, document)
    assert not can_view(cast.other_clerk, document)  # not yet sent to 省财政厅
    assert not can_view(cast.outsider, document)


def test_the_office_and_the_drafter_see_a_draft_and_a_leader_not_yet(cast: Any) -> None:
    document = make_document(cast)

    assert can_view(cast.drafter, document)
    assert can_view(cast.office_secretary, document)
    assert can_view(cast.office_director, document)
    assert not can_view(cast.leader, document)
    assert not can_view(cast.dept_head, document)
