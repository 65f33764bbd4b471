"""拟稿 and 正文 versions: what a drafter notices when she saves."""

from __future__ import annotations

from typing import Any

import pytest

from documents.errors import ClassifiedRefused, DocumentError, StaleVersion
from documents.models import Classification, DocType, DocumentState, Participant
from documents.services import create_draft
from documents.versions import restore_version, save_version
from tests.documents.factories import SAMPLE_BODY, make_document


def test_a_draft_starts_with_version_one_and_the_drafter_as_participant(cast: Any) -> None:
    document = make_document(cast)

    assert document.state == DocumentState.DRAFT
    assert document.current_version.number == 1
    assert document.current_version.body == SAMPLE_BODY
    assert Participant.objects.filter(document=document, user=cast.drafter).exists()
    assert list(document.main_recipients.all()) == [cast.finance]


def test_classified_documents_are_refused_with_a_clear_message(cast: Any) -> None:
    with pytest.raises(ClassifiedRefused, match="非涉密"):
        make_document(cast, classification=Classification.SECRET, secrecy_period="1年")


def test_classified_documents_are_accepted_where_the_deployment_allows_them(cast: Any, settings: Any) -> None:
    settings.ALLOW_CLASSIFIED = True

    document = make_document(cast, classification=Classification.SECRET, secrecy_period="1年")

    assert document.classification == Classification.SECRET


def test_a_request_with_two_main_recipients_is_refused(cast: Any) -> None:
    with pytest.raises(DocumentError, match="一文一事"):
        create_draft(
            actor=cast.drafter,
            department=cast.general_dept,
            title="关于申请防汛经费的请示",
            doc_type=DocType.REQUEST,
            main_recipients=[cast.finance, cast.education],
        )


def test_a_save_based_on_an_older_version_is_refused_and_names_the_newer_one(cast: Any) -> None:
    document = make_document(cast)
    save_version(document, actor=cast.dept_head, body=[{"kind": "p", "text": "处长改过的正文"}], based_on=1)

    with pytest.raises(StaleVersion) as refused:
        save_version(document, actor=cast.drafter, body=[{"kind": "p", "text": "我的修改"}], based_on=1)

    assert "第2版" in refused.value.message
    assert refused.value.context["latest"].number == 2
    document.refresh_from_db()
    assert document.current_version.number == 2


def test_restoring_an_old_version_adds_a_new_one_and_keeps_history(cast: Any) -> None:
    document = make_document(cast)
    first = document.current_version
    save_version(document, actor=cast.drafter, body=[{"kind": "p", "text": "改后"}], based_on=1)

    restored = restore_version(document, actor=cast.drafter, version=first, based_on=2)

    assert restored.number == 3
    assert restored.body == first.body
    assert restored.restored_from == 1
    assert document.versions.count() == 3
