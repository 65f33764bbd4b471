"""传阅 pages as people use them: the office starts a circulation from the document page, a reader
opens their 待阅 item on a phone and marks it 已阅, the document's 传阅 panel shows who read it when
and who has not; every refusal re-renders with what was typed."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.workflows.test_circulation import make_document, second_leader
from workflows.circulation import circulate, mark_read
from workflows.models import Circulation, ReadingState


def start_url(document: Any) -> str:
    return reverse("workflows:circulate", args=[document.pk])


def test_the_office_starts_an_in_order_circulation_from_the_form_and_the_document_page_shows_it(
    cast: Any, sign_in: Any
) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    client = sign_in(cast.office_secretary)
    form = client.get(start_url(document))
    assert form.status_code == 200
    html = form.content.decode()
    assert "王德明" in html and "依次传阅" in html and "整个处室传阅" in html

    response = client.post(
        start_url(document),
        {"readers": [cast.leader.pk, leader2.pk], "in_order": "1", "note": "请各位领导阅示"},
    )

    assert response.status_code == 302 and response["Location"] == f"/documents/{document.pk}/"
    circulation = Circulation.objects.get()
    assert circulation.in_order and circulation.note == "请各位领导阅示"
    page = client.get(response["Location"]).content.decode()
    assert "传阅情况" in page and "依次传阅" in page and "未到（待前一位阅毕）" in page and "未阅（" in page


def test_a_whole_department_becomes_its_people(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    client = sign_in(cast.office_director)
    response = client.post(start_url(document), {"departments": [cast.general_dept.pk], "in_order": "0"})
    assert response.status_code == 302
    readers = {r.reader.real_name for r in Circulation.objects.get().readers.select_related("reader")}
    assert readers == {"林小梅", "陈志强"}


def test_choosing_nobody_is_refused_and_keeps_the_note_typed(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    response = sign_in(cast.office_secretary).post(start_url(document), {"in_order": "0", "note": "请阅知"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请选择传阅人员。" in html and "请阅知" in html
    assert not Circulation.objects.exists()


def test_a_note_too_long_is_refused_in_chinese(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    response = sign_in(cast.office_secretary).post(
        start_url(document), {"readers": [cast.leader.pk], "in_order": "0", "note": "字" * 201}
    )
    assert response.status_code == 200 and "传阅说明最多 200 个字" in response.content.decode()
    assert not Circulation.objects.exists()


def test_the_drafter_may_see_the_document_but_not_start_a_circulation_and_an_outsider_gets_404(
    cast: Any, sign_in: Any
) -> None:
    document = make_document(cast)
    assert sign_in(cast.drafter).get(start_url(document)).status_code == 403
    assert sign_in(cast.drafter).post(start_url(document), {"readers": [cast.leader.pk]}).status_code == 403
    assert sign_in(cast.outsider).get(start_url(document)).status_code == 404
    assert not Circulation.objects.exists()
    # The drafter's document page offers no 发起传阅 (and no empty panel).
    assert "发起传阅" not in sign_in(cast.drafter).get(f"/documents/{document.pk}/").content.decode()


def test_a_reader_opens_the_item_on_a_phone_and_marks_it_read_with_a_comment(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()
    client = sign_in(cast.leader)
    url = reverse("workflows:reading", args=[reading.pk])

    page = client.get(url, HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")
    html = page.content.decode()
    assert page.status_code == 200
    assert document.title in html and "附件" in html and ">已阅</button>" in html
    assert 'name="viewport"' in html

    response = client.post(url, {"comment": "请综合处抓紧落实"})

    assert response.status_code == 302
    reading.refresh_from_db()
    assert reading.state == ReadingState.READ and reading.comment == "请综合处抓紧落实"
    after = client.get(url).content.decode()
    assert "您已于" in after and ">已阅</button>" not in after
    # The office sees who read it when, with the comment.
    panel = sign_in(cast.office_secretary).get(f"/documents/{document.pk}/").content.decode()
    assert "王德明" in panel and "请综合处抓紧落实" in panel and "已全部阅毕" in panel


def test_marking_twice_shows_the_refusal_and_keeps_the_first_comment(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()
    mark_read(reading, actor=cast.leader, comment="第一次")

    response = sign_in(cast.leader).post(
        reverse("workflows:reading", args=[reading.pk]), {"comment": "第二次"}
    )

    assert response.status_code == 400 and "您已阅过" in response.content.decode()
    reading.refresh_from_db()
    assert reading.comment == "第一次"


def test_a_comment_too_long_is_refused_and_kept(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()
    typed = "意" * 501
    response = sign_in(cast.leader).post(reverse("workflows:reading", args=[reading.pk]), {"comment": typed})
    html = response.content.decode()
    assert "阅读意见最多 500 个字" in html and typed in html
    reading.refresh_from_db()
    assert reading.state == ReadingState.UNREAD


def test_someone_elses_item_is_a_404_like_a_missing_one(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()
    client = sign_in(cast.dept_head)
    assert client.get(reverse("workflows:reading", args=[reading.pk])).status_code == 404
    assert client.post(reverse("workflows:reading", args=[reading.pk])).status_code == 404
    assert client.get(reverse("workflows:reading", args=[reading.pk + 1000])).status_code == 404
    reading.refresh_from_db()
    assert reading.state == ReadingState.UNREAD


def test_a_waiting_reader_sees_that_it_is_not_their_turn_yet(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[leader2, cast.leader], in_order=True)
    waiting = circulation.readers.get(reader=cast.leader)
    client = sign_in(cast.leader)
    url = reverse("workflows:reading", args=[waiting.pk])
    assert "前一位阅读人阅毕后即送达您" in client.get(url).content.decode()
    response = client.post(url, {"comment": "抢先"})
    assert response.status_code == 400 and "还未轮到您" in response.content.decode()


def test_the_readers_panel_links_their_own_unread_item(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    html = sign_in(cast.leader).get(f"/documents/{document.pk}/").content.decode()
    assert reverse("workflows:reading", args=[circulation.readers.get().pk]) in html and "阅读并签阅" in html
    assert "发起传阅" not in html
