"""Freshness through the outbox: a change made through an app's service reaches search once the
worker drains the "search" consumer — a new draft, a changed title, a distribution and its withdrawal."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from officeapp.outbox.drain import drain, lag_seconds
from search.engines import get_engine
from search.principals import principals_of

pytestmark = pytest.mark.django_db


def drain_search() -> None:
    result = drain("search")
    assert not result.failed, result.error
    assert not result.skipped, result.skipped


def found(sign_in: Any, user: Any, word: str) -> set[str]:
    response = sign_in(user).get(reverse("search:results"), {"q": word})
    assert response.status_code == 200
    return {hit.key for hit in response.context["results"].hits}


def test_a_new_draft_is_found_by_its_drafter_once_drained_and_a_new_title_replaces_the_old(
    sign_in: Any, cast: Any
) -> None:
    from documents.services import update_details
    from tests.documents.factories import make_document

    document = make_document(cast, title="关于开展鸬鹚湾清淤工作的通知")
    key = f"document:{document.pk}"
    assert key not in get_engine().visible_keys(principals_of(cast.drafter))  # not before the drain

    drain_search()
    assert lag_seconds("search") == 0.0
    assert found(sign_in, cast.drafter, "鸬鹚湾") == {key}
    assert found(sign_in, cast.outsider, "鸬鹚湾") == set()

    update_details(document, actor=cast.drafter, title="关于开展白鹭洲清淤工作的通知")
    drain_search()
    assert found(sign_in, cast.drafter, "白鹭洲") == {key}
    assert found(sign_in, cast.drafter, "鸬鹚湾") == set()


def test_distribution_makes_a_document_findable_by_the_recipient_and_withdrawal_takes_it_back(
    sign_in: Any, cast: Any
) -> None:
    from documents.exchange import distribute, withdraw
    from documents.models import ExchangeRecord
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(
        cast,
        number="粤府办〔2026〕88号",
        title="关于凤尾坡地质灾害防治的通知",
        main_recipients=[cast.finance],
        cc_recipients=[],
    )
    key = f"document:{document.pk}"
    drain_search()
    assert found(sign_in, cast.other_clerk, "凤尾坡") == set()

    distribute(document, actor=cast.office_secretary)
    drain_search()
    assert found(sign_in, cast.other_clerk, "凤尾坡") == {key}
    # The 文号, typed with other brackets and full-width digits, finds it too.
    assert found(sign_in, cast.other_clerk, "粤府办[２０２６]88号") == {key}

    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    withdraw(record, actor=cast.office_secretary, reason="误发，撤回重发")
    drain_search()
    assert found(sign_in, cast.other_clerk, "凤尾坡") == set()
    assert found(sign_in, cast.clerk, "凤尾坡") == {key}
