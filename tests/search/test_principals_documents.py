"""Search sees exactly what documents/access.py lets a person open: for every person and every
document of a varied set, a principal shared by `search_principals_of(user)` and
`document_principals(document)` ⇔ `visible_documents(user)` contains the document."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from documents.access import document_principals, search_principals_of, visible_documents
from documents.exchange import distribute, receive, withdraw
from documents.models import DocumentCategory, DocumentState, ExchangeRecord, ExchangeState, OfficialDocument
from documents.services import set_state
from tests.documents.exchange_factories import make_sealed
from tests.documents.factories import make_document
from tests.workflows.incoming_cast import build_receiving_cast
from tests.workflows.test_outgoing_flow import agree, open_task
from workflows import services as flows
from workflows.services import party_for


def _varied_documents(receiving: Any) -> dict[str, OfficialDocument]:
    """Drafts, documents in review with task participants, a co-issued one, sent ones with exchange
    records (one withdrawn, one signed for), the 收文 that signing made, one waiting to be filed."""
    cast = receiving.cast
    docs: dict[str, OfficialDocument] = {}
    docs["draft"] = make_document(cast, title="草稿")

    in_review = make_document(cast, title="处室审核中")
    flows.start_outgoing(in_review, actor=cast.drafter)
    agree(open_task(in_review, "draft"), cast.drafter)
    docs["dept_review"] = in_review

    countersign = make_document(cast, title="会签中")
    flows.start_outgoing(countersign, actor=cast.drafter)
    agree(open_task(countersign, "draft"), cast.drafter, countersign_parties=[party_for(cast.finance)])
    agree(open_task(countersign, "dept_review"), cast.dept_head)
    docs["countersign"] = countersign  # 省财政厅's 办公室主任 holds a task: a participant

    docs["co_issued"] = make_document(cast, title="联合发文草稿", co_issuers=[cast.finance])

    sent = make_sealed(cast, number="粤府办〔2026〕7号", title="已分发")
    sent.main_recipients.set([cast.finance, receiving.city])
    sent.cc_recipients.set([receiving.county])
    distribute(sent, actor=cast.office_secretary)
    withdraw(  # the city's 收发员 (city_clerk) loses it; the county's keeps it
        ExchangeRecord.objects.get(document=sent, recipient=receiving.city),
        actor=cast.office_secretary,
        reason="主送单位有误",
    )
    receive(ExchangeRecord.objects.get(document=sent, recipient=cast.finance), actor=cast.other_clerk)
    docs["sent"] = sent
    docs["incoming"] = OfficialDocument.objects.get(category=DocumentCategory.INCOMING, title="已分发")

    to_file = make_document(cast, title="待归档")
    set_state(to_file, DocumentState.ARCHIVE)
    docs["to_file"] = to_file
    docs["terminated"] = make_document(cast, title="已终止")
    set_state(docs["terminated"], DocumentState.TERMINATED)
    return docs


def _everyone(receiving: Any) -> dict[str, Any]:
    """The cast, the flow cast's extra people and the receiving side, each freshly loaded (no
    cached role grants)."""
    flow_cast = receiving.flow_cast
    people = dict(receiving.cast.users())
    for name in ("seal_keeper", "archivist", "supervision_head", "secretariat_head", "finance_director"):
        people[name] = getattr(flow_cast, name)
    for name in ("second_clerk", "secretary", "leader", "chief", "archivist", "budget_head", "budget_staff"):
        people[f"fin_{name}"] = getattr(receiving, name)
    for name in ("city_clerk", "county_clerk"):
        people[name] = getattr(receiving, name)
    users = get_user_model().objects.in_bulk([u.pk for u in people.values()])
    return {name: users[u.pk] for name, u in people.items()}


def _mismatches(people: dict[str, Any], documents: dict[str, OfficialDocument]) -> list[str]:
    wrong: list[str] = []
    for who, user in people.items():
        principals = set(search_principals_of(user))
        visible = set(visible_documents(user).values_list("pk", flat=True))
        for label, document in documents.items():
            fresh = OfficialDocument.objects.get(pk=document.pk)
            by_search = bool(principals & document_principals(fresh))
            if by_search != (document.pk in visible):
                wrong.append(f"{who} / {label}: search {by_search}, access.py {document.pk in visible}")
    return wrong


def test_search_principals_agree_with_visible_documents_for_every_person_and_document(cast: Any) -> None:
    from tests.workflows.conftest import build_flow_cast

    receiving = build_receiving_cast(build_flow_cast(cast))
    documents = _varied_documents(receiving)
    people = _everyone(receiving)
    # The set is varied enough to mean something: each rule decides somewhere, both ways.
    assert ExchangeRecord.objects.filter(state=ExchangeState.WITHDRAWN).exists()
    assert documents["incoming"].category == DocumentCategory.INCOMING
    seen = {who: set(visible_documents(u).values_list("pk", flat=True)) for who, u in people.items()}
    assert documents["co_issued"].pk in seen["finance_director"]
    assert documents["countersign"].pk in seen["finance_director"]
    assert documents["sent"].pk in seen["county_clerk"] and documents["sent"].pk not in seen["city_clerk"]
    assert documents["sent"].pk not in seen["outsider"]
    assert documents["to_file"].pk in seen["clerk"] and documents["draft"].pk not in seen["clerk"]
    assert documents["dept_review"].pk in seen["dept_head"]

    assert _mismatches(people, documents) == []


def test_a_withdrawn_recipients_clerk_and_an_outsider_share_no_principal_with_the_document(
    cast: Any,
) -> None:
    document = make_sealed(cast, number="粤府办〔2026〕8号")
    document.main_recipients.set([cast.education])
    document.cc_recipients.set([cast.finance])
    distribute(document, actor=cast.office_secretary)
    assert set(search_principals_of(cast.other_clerk)) & document_principals(document)

    withdraw(
        ExchangeRecord.objects.get(document=document, recipient=cast.finance),
        actor=cast.office_secretary,
        reason="抄送有误",
    )

    fresh = OfficialDocument.objects.get(pk=document.pk)
    assert not set(search_principals_of(cast.other_clerk)) & document_principals(fresh)
    assert not set(search_principals_of(cast.outsider)) & document_principals(fresh)


def test_an_inactive_or_anonymous_user_has_no_document_principals(cast: Any) -> None:
    document = make_document(cast)
    cast.drafter.is_active = False
    cast.drafter.save(update_fields=["is_active"])

    assert search_principals_of(cast.drafter) == {}
    assert search_principals_of(AnonymousUser()) == {}
    assert not visible_documents(cast.drafter).filter(pk=document.pk).exists()
