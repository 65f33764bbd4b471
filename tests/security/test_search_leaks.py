"""Search never shows what the apps hide: the permission-leak suite of issue 9.

A varied data set is built on the fixed cast through the real services — a draft with a Word
attachment, a document distributed to 省财政厅, one distributed and withdrawn, a 督办事项, a
meeting with invited people, an invited agency and a material, a chat group the outsider is not in
with a message sent before a late member joined — and the outbox is drained into the index as the
worker would. Then, for every cast user:

- the index's visible keys for the user's principals are exactly the records the owning app's
  access.py lets the user see (documents.access, workflows.access, meetings.access, chat.access);
- through the pages (/search/ and /search/suggest/), a word only forbidden records contain finds
  nothing — no hit, a total of 0, no facet count, no highlight, no suggestion — and a word in
  visible and forbidden records finds only the visible ones, counted as such;
- a change of access reaches search: 分发 to 省财政厅 and 撤回, a member removed from a group (at
  once, before any reindex), a message recalled.

The expected answers are computed from access.py, never from the index, so a source whose
principals drift from its app's rule fails here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import CAST_USERS

pytestmark = pytest.mark.django_db

ADMIN_USERS = ("system_admin", "security_admin", "audit_admin")

# Words that occur nowhere else in the data set (nor in the cast), each in the records named below.
W_DRAFT = "翡翠湾"  # the draft's title
W_ATTACHMENT = "琉璃塔"  # only inside the draft's Word attachment
W_FINANCE = "凤凰岭"  # the document distributed to 省财政厅
W_WITHDRAWN = "玄武湖"  # the document distributed to 省财政厅 and withdrawn
W_SUPERVISION = "鸿鹄阁"  # the 督办事项
W_MEETING = "麒麟台"  # the meeting's title
W_MATERIAL = "白鹭洲"  # the meeting material's title (papers: not for the clerk who chooses)
W_GROUP = "青鸾峰"  # a message of the group the outsider is not in
W_EARLY = "紫薇垣"  # a message sent before the late member joined
W_LATE = "朱雀门"  # a message sent after she joined
# In a record 省财政厅's 收发员 sees (the distributed document) and in records she does not (the
# withdrawn document, the material): she must get exactly one.
W_SHARED = "琥珀川"

PROBE_WORDS = (
    W_DRAFT,
    W_ATTACHMENT,
    W_FINANCE,
    W_WITHDRAWN,
    W_SUPERVISION,
    W_MEETING,
    W_MATERIAL,
    W_GROUP,
    W_EARLY,
    W_LATE,
    W_SHARED,
)

# The facet "kind" of each key prefix (search/sources contracts).
KIND_OF_PREFIX = {
    "document": "document",
    "attachment": "attachment",
    "material": "attachment",
    "supervision": "supervision",
    "report": "supervision",
    "meeting": "meeting",
    "message": "message",
}


# --- visibility by the apps' own rules ------------------------------------------------------------


def _pk(key: str) -> int:
    return int(key.split(":", 1)[1])


def app_allows(user: Any, key: str) -> bool:
    """Whether the app that owns `key` lets `user` see the record (and it is searchable at all)."""
    prefix = key.split(":", 1)[0]
    pk = _pk(key)
    if prefix == "document":
        from documents.access import visible_documents

        return visible_documents(user).filter(pk=pk).exists()
    if prefix == "attachment":
        from documents.access import visible_documents
        from documents.models import Attachment

        attachment = Attachment.objects.filter(pk=pk, removed_at__isnull=True).first()
        return attachment is not None and visible_documents(user).filter(pk=attachment.document_id).exists()
    if prefix == "supervision":
        from workflows.access import visible_items

        return visible_items(user).filter(pk=pk).exists()
    if prefix == "report":
        from workflows.access import visible_items
        from workflows.models import ProgressReport

        report = ProgressReport.objects.filter(pk=pk).first()
        return report is not None and visible_items(user).filter(pk=report.item_id).exists()
    if prefix == "meeting":
        from meetings.access import visible_meetings

        return visible_meetings(user).filter(pk=pk).exists()
    if prefix == "material":
        from meetings.access import material_meetings
        from meetings.models import Material

        material = Material.objects.filter(pk=pk).first()
        return material is not None and material_meetings(user).filter(pk=material.meeting_id).exists()
    if prefix == "message":
        from chat.access import get_message_for
        from chat.models import Message

        message = Message.objects.filter(pk=pk).first()
        if message is None or message.is_recalled:
            return False  # a recalled message's text is gone from every view and from search
        try:
            get_message_for(user, pk)
        except Http404:
            return False
        return True
    raise AssertionError(f"未知的索引键前缀：{key}")


# --- the data set -----------------------------------------------------------------------------------


@dataclass
class Record:
    key: str
    words: frozenset[str]
    # Text printed nowhere but in this record, next to its probe word: if it shows on a page of
    # someone who may not see the record, the record leaked (title, snippet or suggestion).
    tag: str


@dataclass
class DataSet:
    records: list[Record] = field(default_factory=list)
    objects: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, tag: str, *words: str) -> None:
        self.records.append(Record(key, frozenset(words), tag))

    def containing(self, word: str) -> list[Record]:
        return [r for r in self.records if word in r.words]


def docx_bytes(text: str) -> bytes:
    from docx import Document

    out = io.BytesIO()
    word = Document()
    word.add_paragraph(text)
    word.save(out)
    return out.getvalue()


def pdf_upload(name: str) -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


def sealed_document(cast: Any, *, title: str, number: str) -> Any:
    """A 省府办公厅 document at 分发, 主送 省财政厅 only, not yet distributed."""
    from tests.documents.exchange_factories import make_sealed

    return make_sealed(cast, number=number, title=title, main_recipients=[cast.finance], cc_recipients=[])


def distribute(document: Any, cast: Any) -> None:
    from documents.exchange import distribute as distribute_document

    distribute_document(document, actor=cast.office_secretary)


def withdraw_from_finance(document: Any, cast: Any) -> None:
    from documents.exchange import withdraw
    from documents.models import ExchangeRecord

    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    withdraw(record, actor=cast.office_secretary, reason="误发，撤回重发")


def build_data_set(cast: Any) -> DataSet:
    from chat import services as chat
    from documents.attachments import add_attachment
    from meetings import agenda
    from meetings import services as meetings
    from meetings.models import MeetingKind
    from tests.documents.factories import make_document
    from workflows.models import SupervisionSource
    from workflows.services import start_outgoing
    from workflows.supervision import initiate

    data = DataSet()
    today = timezone.localdate()

    # 发文: a draft in its 拟稿 step (drafter, 省府办公厅's office) with a Word attachment.
    draft = make_document(cast, title=f"关于{W_DRAFT}整治工作的请示（标记甲一）")
    start_outgoing(draft, actor=cast.drafter)
    attachment = add_attachment(
        draft,
        actor=cast.drafter,
        upload=SimpleUploadedFile(
            "名单.docx",
            docx_bytes(f"附件正文：{W_ATTACHMENT}片区责任人名单（标记甲二）"),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        title="责任人名单",
    )
    data.add(f"document:{draft.pk}", "标记甲一", W_DRAFT)
    data.add(f"attachment:{attachment.pk}", "标记甲二", W_ATTACHMENT)

    # 分发 to 省财政厅: its 收发员 sees it from now on.
    finance_doc = sealed_document(
        cast, title=f"关于{W_FINANCE}{W_SHARED}项目资金的通知（标记乙一）", number="粤府办〔2026〕61号"
    )
    distribute(finance_doc, cast)
    data.add(f"document:{finance_doc.pk}", "标记乙一", W_FINANCE, W_SHARED)

    # 分发 to 省财政厅, then 撤回 before it was signed for: its 收发员 no longer sees it.
    withdrawn = sealed_document(
        cast, title=f"关于{W_WITHDRAWN}{W_SHARED}规划的通知（标记乙二）", number="粤府办〔2026〕62号"
    )
    distribute(withdrawn, cast)
    withdraw_from_finance(withdrawn, cast)
    data.add(f"document:{withdrawn.pk}", "标记乙二", W_WITHDRAWN, W_SHARED)

    # 督办: led by 综合处 with 秘书处, 分管 leader instructed.
    item = initiate(
        actor=cast.supervisor,
        agency=cast.gov_office,
        source=SupervisionSource.INSTRUCTION,
        title=f"推进{W_SUPERVISION}片区改造（标记丙一）",
        requirement="每月报送进展",
        instruction="请综合处牵头抓好落实。",
        lead_unit=cast.general_dept,
        co_units=[cast.secretariat],
        received_on=today - timedelta(days=3),
        due_on=today + timedelta(days=30),
        leader=cast.leader,
    )
    data.add(f"supervision:{item.pk}", "标记丙一", W_SUPERVISION)

    # A meeting: the drafter invited by name, 省财政厅 as an agency (its 收发员 chooses who goes,
    # sees the meeting but not its papers); a material only those who hold a seat read.
    tomorrow = timezone.localtime() + timedelta(days=1)
    starts = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    meeting = meetings.create_meeting(
        actor=cast.office_secretary,
        title=f"{W_MEETING}工作推进会（标记丁一）",
        kind=MeetingKind.VIDEO,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        host=cast.leader,
        online=True,
        notice="请按时参加。",
    )
    meetings.set_invitees(
        meeting, actor=cast.office_secretary, people=[cast.drafter], agencies=[(cast.finance, 1)]
    )
    meetings.send_notice(meeting, actor=cast.office_secretary)
    material = agenda.add_material(
        meeting,
        actor=cast.office_secretary,
        upload=pdf_upload("汇报材料.pdf"),
        title=f"{W_MATERIAL}{W_SHARED}汇报材料（标记丁二）",
    )
    data.add(f"meeting:{meeting.pk}", "标记丁一", W_MEETING)
    data.add(f"material:{material.pk}", "标记丁二", W_MATERIAL, W_SHARED)

    # Chat: a group of the drafter, her 处长 and 省财政厅's 收发员; the outsider is in none. The
    # 文秘 joins late and must not find what was said before.
    group = chat.create_group(
        actor=cast.drafter, name="跨厅协调小组", members=[cast.dept_head, cast.other_clerk]
    )
    in_group = chat.send_text(group, actor=cast.drafter, body=f"{W_GROUP}方案请各位审阅（标记戊一）")
    early = chat.send_text(group, actor=cast.dept_head, body=f"{W_EARLY}的数据已核对（标记戊二）")
    chat.add_members(group, [cast.office_secretary], actor=cast.drafter)
    late = chat.send_text(group, actor=cast.drafter, body=f"{W_LATE}会场已落实（标记戊三）")
    data.add(f"message:{in_group.pk}", "标记戊一", W_GROUP)
    data.add(f"message:{early.pk}", "标记戊二", W_EARLY)
    data.add(f"message:{late.pk}", "标记戊三", W_LATE)

    data.objects.update(group=group, meeting=meeting, finance_doc=finance_doc, withdrawn=withdrawn)
    return data


def drain_search() -> None:
    """Deliver the outbox to the search consumer, as the worker does."""
    from officeapp.outbox.drain import drain

    result = drain("search")
    assert not result.failed, f"搜索索引消费失败：{result.error}"
    assert not result.skipped, f"搜索索引消费被跳过：{result.skipped}"


def engine_keys(user: Any) -> set[str]:
    from search.engines import get_engine
    from search.principals import principals_of

    return get_engine().visible_keys(principals_of(user))


# --- asking through the pages ---------------------------------------------------------------------


def client_for(user: Any) -> Client:
    """A client signed in as `user`; the three administrators also pass the second factor."""
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    if user.username in ADMIN_USERS:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def results_in(response: Any) -> Any:
    """The `Results` the results page rendered (found by type, whatever the view calls it)."""
    from search.interface import Results

    contexts = response.context
    if contexts is None:
        raise AssertionError("搜索结果页没有渲染模板")
    if not isinstance(contexts, list):
        contexts = [contexts]
    for context in contexts:
        for value in context.flatten().values():
            if isinstance(value, Results):
                return value
    raise AssertionError("搜索结果页的模板上下文中没有 Results")


@dataclass
class PageAnswer:
    keys: set[str]
    total: int
    facets: dict[str, list[Any]]
    html: str
    suggestions: list[dict[str, Any]]


def ask(client: Client, word: str, **filters: str) -> PageAnswer:
    response = client.get(reverse("search:results"), {"q": word, **filters})
    assert response.status_code == 200, response.status_code
    results = results_in(response)
    suggest = client.get(reverse("search:suggest"), {"q": word})
    assert suggest.status_code == 200, suggest.status_code
    return PageAnswer(
        keys={hit.key for hit in results.hits},
        total=results.total,
        facets=results.facets,
        html=response.content.decode(),
        suggestions=suggest.json()["suggestions"],
    )


MARK = re.compile(r"<mark[^>]*>(.*?)</mark>", re.S)


def assert_finds_exactly(
    answer: PageAnswer, expected: list[Record], forbidden: list[Record], who: str, word: str
) -> None:
    where = f"{who} 搜索 {word}"
    wanted = {r.key for r in expected}
    assert answer.keys == wanted, f"{where}：命中 {sorted(answer.keys)}，应为 {sorted(wanted)}"
    assert answer.total == len(wanted), f"{where}：总数 {answer.total}，应为 {len(wanted)}"
    kinds: dict[str, int] = {}
    for key in wanted:
        kind = KIND_OF_PREFIX[key.split(":", 1)[0]]
        kinds[kind] = kinds.get(kind, 0) + 1
    for facet, values in answer.facets.items():
        for value in values:
            assert value.count <= len(wanted), f"{where}：分面 {facet}={value.value} 计数 {value.count}"
            if not wanted:
                assert value.count == 0, f"{where}：无结果时分面 {facet}={value.value} 计数 {value.count}"
    shown_kinds = {v.value: v.count for v in answer.facets.get("kind", []) if v.count > 0}
    assert shown_kinds == kinds, f"{where}：类型分面 {shown_kinds}，应为 {kinds}"
    for record in forbidden:
        assert record.tag not in answer.html, f"{where}：结果页泄露了 {record.key}"
        for suggestion in answer.suggestions:
            assert record.tag not in str(suggestion), f"{where}：联想泄露了 {record.key}"
    if not wanted:
        assert not [m for m in MARK.findall(answer.html) if m.strip()], f"{where}：无结果时仍有高亮"
        assert answer.suggestions == [], f"{where}：无结果时仍有联想 {answer.suggestions}"
    else:
        assert len(answer.suggestions) <= len(wanted), f"{where}：联想多于可见结果 {answer.suggestions}"
        assert any(word in m for m in MARK.findall(answer.html)), f"{where}：可见结果没有高亮"


# --- the suite -------------------------------------------------------------------------------------


@pytest.fixture
def data(cast: Any) -> DataSet:
    data = build_data_set(cast)
    drain_search()
    return data


def test_every_record_of_the_data_set_is_indexed_and_seen_by_someone(cast: Any, data: DataSet) -> None:
    seen: set[str] = set()
    for user in cast.users().values():
        seen |= engine_keys(user)
    missing = {r.key for r in data.records} - seen
    assert not missing, f"这些记录没有进入索引（或谁都搜不到）：{sorted(missing)}"


def test_each_users_visible_keys_are_exactly_what_the_apps_access_rules_allow(
    cast: Any, data: DataSet
) -> None:
    by_user = {name: engine_keys(user) for name, user in cast.users().items()}
    universe = {r.key for r in data.records}.union(*by_user.values())
    problems: list[str] = []
    for name, user in cast.users().items():
        for key in sorted(universe):
            allowed = app_allows(user, key)
            if key in by_user[name] and not allowed:
                problems.append(f"泄露：{name} 能搜到 {key}，但应用不让其查看")
            if allowed and key not in by_user[name]:
                problems.append(f"遗漏：{name} 可以查看 {key}，但搜不到")
    assert not problems, "\n".join(problems)


def test_the_data_set_exercises_both_sides_for_the_outsider_and_the_other_agencys_clerk(
    cast: Any, data: DataSet
) -> None:
    """The suite means something only if its users really differ: spelled out for two of them."""
    outsider_keys = engine_keys(cast.outsider)
    assert not outsider_keys & {r.key for r in data.records}
    finance = {r.key for r in data.records if app_allows(cast.other_clerk, r.key)}
    assert finance == {
        f"document:{data.objects['finance_doc'].pk}",
        f"meeting:{data.objects['meeting'].pk}",
        *(r.key for r in data.records if r.words & {W_GROUP, W_EARLY, W_LATE}),
    }
    assert finance <= engine_keys(cast.other_clerk)


@pytest.mark.parametrize("username", CAST_USERS)
def test_searching_through_the_pages_shows_only_what_the_user_may_see(
    cast: Any, data: DataSet, username: str
) -> None:
    """For each probe word: hits, total, facet counts, highlights and suggestions are those of the
    records the user may see, and a forbidden record's text appears nowhere on the page."""
    user = cast.users()[username]
    client = client_for(user)
    for word in PROBE_WORDS:
        containing = data.containing(word)
        expected = [r for r in containing if app_allows(user, r.key)]
        forbidden = [r for r in containing if r not in expected]
        assert_finds_exactly(ask(client, word), expected, forbidden, username, word)


def test_a_word_in_a_visible_and_in_forbidden_records_gives_the_other_clerk_only_the_visible_one(
    cast: Any, data: DataSet
) -> None:
    answer = ask(client_for(cast.other_clerk), W_SHARED)
    assert answer.keys == {f"document:{data.objects['finance_doc'].pk}"}
    assert answer.total == 1
    assert all(v.count <= 1 for values in answer.facets.values() for v in values)
    assert {v.value: v.count for v in answer.facets["kind"] if v.count} == {"document": 1}
    assert "标记乙一" in answer.html
    assert "标记乙二" not in answer.html and "标记丁二" not in answer.html
    assert len(answer.suggestions) <= 1


def test_a_filter_on_a_forbidden_records_kind_counts_nothing(cast: Any, data: DataSet) -> None:
    """Narrowing to 附件 and 督办 does not reveal, through counts, what the outsider cannot open."""
    client = client_for(cast.outsider)
    for word, kind in (
        (W_ATTACHMENT, "attachment"),
        (W_MATERIAL, "attachment"),
        (W_SUPERVISION, "supervision"),
    ):
        answer = ask(client, word, kind=kind)
        assert answer.keys == set() and answer.total == 0
        assert all(v.count == 0 for values in answer.facets.values() for v in values)
    # Narrowed to 附件, 省财政厅's 收发员 finds nothing for the word of her document and of the
    # material she may not read; the kind facet (drill-down) still counts only her document.
    answer = ask(client_for(cast.other_clerk), W_SHARED, kind="attachment")
    assert answer.keys == set() and answer.total == 0
    assert "标记丁二" not in answer.html
    assert {v.value: v.count for v in answer.facets.get("kind", []) if v.count} in ({}, {"document": 1})
    assert all(v.count <= 1 for values in answer.facets.values() for v in values)


# --- a change of access reaches search ------------------------------------------------------------


def test_distributing_to_finance_lets_its_clerk_find_the_document_and_withdrawing_hides_it(cast: Any) -> None:
    document = sealed_document(cast, title="关于云雀坪水利工程的通知", number="粤府办〔2026〕71号")
    drain_search()
    clerk = client_for(cast.other_clerk)
    key = f"document:{document.pk}"
    before = ask(clerk, "云雀坪")
    assert before.keys == set() and before.total == 0 and before.suggestions == []
    assert key not in engine_keys(cast.other_clerk)

    distribute(document, cast)
    drain_search()
    after = ask(clerk, "云雀坪")
    assert after.keys == {key} and after.total == 1
    assert [s["title"] for s in after.suggestions] and all("云雀坪" in s["title"] for s in after.suggestions)
    assert key in engine_keys(cast.other_clerk)

    withdraw_from_finance(document, cast)
    drain_search()
    withdrawn = ask(clerk, "云雀坪")
    assert withdrawn.keys == set() and withdrawn.total == 0 and withdrawn.suggestions == []
    assert key not in engine_keys(cast.other_clerk)
    # The issuing agency's 收发员 still has it: withdrawal hides it from the recipient only.
    assert ask(client_for(cast.clerk), "云雀坪").keys == {key}


def test_a_removed_member_no_longer_finds_the_groups_messages_even_before_any_reindex(cast: Any) -> None:
    from chat import services as chat

    group = chat.create_group(actor=cast.drafter, name="临时专班", members=[cast.dept_head, cast.other_clerk])
    message = chat.send_text(group, actor=cast.drafter, body="鹈鹕滩方案定稿")
    drain_search()
    clerk = client_for(cast.other_clerk)
    assert ask(clerk, "鹈鹕滩").keys == {f"message:{message.pk}"}

    chat.remove_member(group, cast.other_clerk, actor=cast.drafter)
    # No drain: her principals come from her memberships, read at query time.
    gone = ask(clerk, "鹈鹕滩")
    assert gone.keys == set() and gone.total == 0 and gone.suggestions == []
    assert f"message:{message.pk}" not in engine_keys(cast.other_clerk)
    drain_search()
    assert ask(clerk, "鹈鹕滩").keys == set()
    # The members who stay still find it.
    assert ask(client_for(cast.dept_head), "鹈鹕滩").keys == {f"message:{message.pk}"}


def test_a_recalled_message_is_found_by_nobody(cast: Any) -> None:
    from chat import services as chat

    group = chat.create_group(
        actor=cast.drafter, name="撤回测试组", members=[cast.dept_head, cast.other_clerk]
    )
    message = chat.send_text(group, actor=cast.drafter, body="鹧鸪岛数据有误")
    drain_search()
    assert ask(client_for(cast.dept_head), "鹧鸪岛").keys == {f"message:{message.pk}"}

    chat.recall(message, actor=cast.drafter)
    drain_search()
    for name, user in cast.users().items():
        answer = ask(client_for(user), "鹧鸪岛")
        assert answer.keys == set() and answer.total == 0, name
        assert answer.suggestions == [], name
        assert f"message:{message.pk}" not in engine_keys(user), name


def test_a_disabled_user_finds_nothing(cast: Any, data: DataSet) -> None:
    """An account switched off keeps no principals: nothing the index holds is hers any more."""
    from officeapp.org.services import disable_user

    assert engine_keys(cast.drafter)
    disable_user(cast.drafter, actor=cast.system_admin, successor=cast.dept_head)
    cast.drafter.refresh_from_db()
    assert engine_keys(cast.drafter) == set()


def test_a_withdrawn_documents_number_finds_nothing_for_the_recipients_clerk(
    cast: Any, data: DataSet
) -> None:
    """A recognised 文号 ranks its document first: that lookup is permission-filtered like the rest."""
    finance_doc = f"document:{data.objects['finance_doc'].pk}"
    clerk = client_for(cast.other_clerk)
    for typed in ("粤府办〔2026〕62号", "粤府办[2026]62号", "粤府办（2026）62号"):
        answer = ask(clerk, typed)
        assert answer.keys == set() and answer.total == 0, typed
        assert answer.suggestions == [], typed
        assert "标记乙二" not in answer.html, typed
    assert ask(clerk, "粤府办〔2026〕61号").keys == {finance_doc}
    outsider = client_for(cast.outsider)
    for typed in ("粤府办〔2026〕61号", "粤府办〔2026〕62号"):
        answer = ask(outsider, typed)
        assert answer.keys == set() and answer.total == 0, typed


def test_sorting_by_date_filtering_by_agency_and_short_prefixes_leak_nothing(
    cast: Any, data: DataSet
) -> None:
    """Other paths through the engine: newest-first order, the agency and year filters, and the
    suggestions for the first two characters of a forbidden title."""
    year = str(timezone.localdate().year)
    for user in (cast.other_clerk, cast.outsider):
        client = client_for(user)
        for word in PROBE_WORDS:
            containing = data.containing(word)
            expected = [r for r in containing if app_allows(user, r.key)]
            forbidden = [r for r in containing if r not in expected]
            who = user.username
            assert_finds_exactly(ask(client, word, sort="date"), expected, forbidden, who, word)
            for filters in ({"agency": str(cast.gov_office.pk)}, {"year": year}):
                answer = ask(client, word, **filters)
                assert answer.keys <= {r.key for r in expected}, (who, word, filters)
                for record in forbidden:
                    assert record.tag not in answer.html, (who, word, filters, record.key)
                assert all(v.count <= len(expected) for values in answer.facets.values() for v in values), (
                    who,
                    word,
                    filters,
                )
        for title_start in ("玄武", "翡翠", "琉璃", "鸿鹄", "白鹭", "紫薇"):
            suggestions = client.get(reverse("search:suggest"), {"q": title_start}).json()["suggestions"]
            shown = " ".join(s["title"] for s in suggestions)
            forbidden_tags = [r.tag for r in data.records if not app_allows(user, r.key)]
            assert not [t for t in forbidden_tags if t in shown], (user.username, title_start, suggestions)


def test_a_member_who_left_and_was_added_again_does_not_find_what_was_said_meanwhile(cast: Any) -> None:
    """Rejoining starts a new membership: search follows its floor, as chat.access does."""
    from chat import services as chat

    group = chat.create_group(
        actor=cast.drafter, name="往返测试组", members=[cast.dept_head, cast.other_clerk]
    )
    before = chat.send_text(group, actor=cast.drafter, body="鸬鹚湾第一稿")
    chat.remove_member(group, cast.other_clerk, actor=cast.drafter)
    meanwhile = chat.send_text(group, actor=cast.drafter, body="鸬鹚湾第二稿")
    chat.add_members(group, [cast.other_clerk], actor=cast.drafter)
    after = chat.send_text(group, actor=cast.drafter, body="鸬鹚湾第三稿")
    drain_search()

    expected = {
        f"message:{m.pk}"
        for m in (before, meanwhile, after)
        if app_allows(cast.other_clerk, f"message:{m.pk}")
    }
    assert f"message:{after.pk}" in expected and f"message:{meanwhile.pk}" not in expected
    answer = ask(client_for(cast.other_clerk), "鸬鹚湾")
    assert answer.keys == expected and answer.total == len(expected)
    assert "第二稿" not in answer.html
    assert {k for k in engine_keys(cast.other_clerk) if k.startswith("message:")} >= expected
    assert f"message:{meanwhile.pk}" not in engine_keys(cast.other_clerk)
