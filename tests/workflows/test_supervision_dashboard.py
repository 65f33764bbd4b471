"""督办看板 (workflows/views/supervision_dashboard.py, workflows/supervision_stats.py): the figures on a
small known set, who sees which items, every bar's list having exactly the bar's rows, the Excel
export, refusals, and a query count that does not grow with the items.

The known set, on TODAY, Wednesday 2026-06-17 (Asia/Shanghai) — 省府办公厅 supervises:

| item | lead (co)            | state      | light  | due         | other                                    |
|------|----------------------|------------|--------|-------------|------------------------------------------|
| A    | 综合处 (秘书处)      | 承办       | red    | 06-12       | 领导批示, 重要, leader 王德明, report late |
| B    | 综合处               | 承办       | yellow | 06-19 (Fri) | 会议决定                                 |
| C    | 秘书处 (综合处)      | 承办       | green  | 07-17       | 领导批示                                 |
| D    | 秘书处               | 待归档     | green  | 06-05       | 办结 06-09 (4 days late), 销号 06-10      |
| E    | 省财政厅             | 签收       | green  | 07-07       | 重要文件, 立项 2026-04-20                  |
| F    | 综合处               | 已撤销     | green  | —           |                                          |
| G    | 省财政厅             | 已归档     | green  | 06-15       | 办结 06-11 (on time), 销号 06-12          |

All but E were 立项 on 2026-06-01. The rows are written straight (the figures read rows; the services
that make them are tested with the flow).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

pytestmark = [pytest.mark.django_db]

DASHBOARD = "/workflows/supervision/dashboard/"
LIST = "/workflows/supervision/dashboard/items/"
EXPORT = "/workflows/supervision/export.xlsx"
TODAY = date(2026, 6, 17)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@dataclass
class KnownSet:
    items: dict[str, Any]


def make_item(supervision: Any, title: str, *, lead: Any, co: tuple[Any, ...] = (), **fields: Any) -> Any:
    from officeapp.org.models import Agency
    from workflows.models import SupervisionItem, SupervisionUnit

    cast = supervision.cast
    is_agency = isinstance(lead, Agency)
    fields.setdefault("received_on", date(2026, 6, 1))
    fields.setdefault("created_at", at(date(2026, 6, 1)))
    item = SupervisionItem.objects.create(
        agency=cast.gov_office,
        title=title,
        source=fields.pop("source", "instruction"),
        supervisor=supervision.supervisor,
        created_by=supervision.supervisor,
        lead_department=None if is_agency else lead,
        lead_agency=lead if is_agency else None,
        co_units=[{"kind": "department", "id": u.pk, "label": u.name} for u in co],
        **fields,
    )
    SupervisionUnit.objects.create(
        item=item, department=None if is_agency else lead, agency=lead if is_agency else None, is_lead=True
    )
    for unit in co:
        SupervisionUnit.objects.create(item=item, department=unit, is_lead=False)
    return item


def build_known_set(supervision: Any) -> KnownSet:
    cast = supervision.cast
    general, secretariat, finance = cast.general_dept, cast.secretariat, cast.finance
    items = {
        "A": make_item(
            supervision,
            "落实省长批示推进营商环境改革",
            lead=general,
            co=(secretariat,),
            state="handle",
            light="red",
            due_on=date(2026, 6, 12),
            next_report_on=date(2026, 6, 15),
            importance="important",
            leader=cast.leader,
            number="督〔2026〕1号",
        ),
        "B": make_item(
            supervision,
            "办理全省防汛工作会议决定事项",
            lead=general,
            source="meeting",
            state="handle",
            light="yellow",
            due_on=date(2026, 6, 19),
            next_report_on=date(2026, 6, 30),
            number="督〔2026〕2号",
        ),
        "C": make_item(
            supervision,
            "推进政务服务一网通办",
            lead=secretariat,
            co=(general,),
            state="handle",
            light="green",
            due_on=date(2026, 7, 17),
            next_report_on=date(2026, 6, 30),
            number="督〔2026〕3号",
        ),
        "D": make_item(
            supervision,
            "整理2025年度督办档案",
            lead=secretariat,
            state="archive",
            light="green",
            due_on=date(2026, 6, 5),
            completed_at=at(date(2026, 6, 9)),
            closed_at=at(date(2026, 6, 10)),
            number="督〔2026〕4号",
        ),
        "E": make_item(
            supervision,
            "落实省级财政资金绩效评价文件",
            lead=finance,
            source="document",
            state="accept",
            light="green",
            due_on=date(2026, 7, 7),
            received_on=date(2026, 4, 20),
            created_at=at(date(2026, 4, 20)),
            number="督〔2026〕5号",
        ),
        "F": make_item(supervision, "已撤销的调研事项", lead=general, state="terminated", light="green"),
        "G": make_item(
            supervision,
            "拨付防汛救灾资金",
            lead=finance,
            state="archived",
            light="green",
            due_on=date(2026, 6, 15),
            completed_at=at(date(2026, 6, 11)),
            closed_at=at(date(2026, 6, 12)),
            number="督〔2026〕6号",
        ),
    }
    return KnownSet(items=items)


# --- fixtures and page helpers ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


@pytest.fixture
def known(supervision: Any) -> KnownSet:
    return build_known_set(supervision)


FIGURE = re.compile(
    r'<a[^>]*data-figure="(?P<name>[^"]+)"[^>]*href="(?P<href>[^"]*)"[^>]*>(?P<count>\d+)</a>'
)
FIGURE_HREF_FIRST = re.compile(
    r'<a[^>]*href="(?P<href>[^"]*)"[^>]*data-figure="(?P<name>[^"]+)"[^>]*>(?:<strong>)?(?P<count>\d+)'
)


def figures(html: str) -> dict[str, tuple[int, str]]:
    """Every linked number of the page: name → (count shown, the list it opens)."""
    found = {}
    for pattern in (FIGURE, FIGURE_HREF_FIRST):
        for m in pattern.finditer(html):
            found[m["name"]] = (int(m["count"]), m["href"].replace("&amp;", "&"))
    return found


def listed(client: Any, href: str) -> tuple[int, list[str]]:
    """The list page's "共 N 件" and the titles of its rows."""
    response = client.get(href)
    assert response.status_code == 200
    html = response.content.decode()
    count = int(re.search(r'data-figure="list-count">(\d+)<', html)[1])
    titles = re.findall(r'<tr data-item="\d+">\s*<td>[^<]*</td>\s*<td>(?:<a [^>]*>)?([^<]+)<', html)
    return count, titles


def board_of(client: Any, query: str = "") -> dict[str, tuple[int, str]]:
    response = client.get(DASHBOARD + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return figures(response.content.decode())


# --- the figures on the known set ---------------------------------------------------------------------


def test_the_supervisor_sees_the_agencys_counts_by_state_light_and_source(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    # when: the 督查员 opens the dashboard
    board = board_of(sign_in(supervision.supervisor))

    # then: the tiles, lights (open items only), states and sources are exactly the known set's
    counts = {name: count for name, (count, _) in board.items()}
    assert {k: counts[k] for k in ("total", "open", "overdue", "due_week", "report_late", "closed")} == {
        "total": 7,
        "open": 4,
        "overdue": 1,
        "due_week": 1,
        "report_late": 1,
        "closed": 2,
    }
    assert (counts["light-red"], counts["light-yellow"], counts["light-green"]) == (1, 1, 2)
    assert {k: v for k, v in counts.items() if k.startswith("state-")} == {
        "state-accept": 1,
        "state-handle": 3,
        "state-archive": 1,
        "state-archived": 1,
        "state-terminated": 1,
    }
    assert {k: v for k, v in counts.items() if k.startswith("source-")} == {
        "source-instruction": 5,
        "source-meeting": 1,
        "source-document": 1,
    }


def test_units_count_lead_and_helping_items_and_their_open_lights(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    cast = supervision.cast
    general, secretariat, finance = (
        f"d{cast.general_dept.pk}",
        f"d{cast.secretariat.pk}",
        f"a{cast.finance.pk}",
    )

    counts = {name: c for name, (c, _) in board_of(sign_in(supervision.supervisor)).items()}

    assert [counts[f"unit-{k}-{general}"] for k in ("lead", "co", "open", "red", "yellow")] == [3, 1, 3, 1, 1]
    assert [counts[f"unit-{k}-{secretariat}"] for k in ("lead", "co", "open", "red", "yellow")] == [
        2,
        1,
        2,
        1,
        0,
    ]
    assert [counts[f"unit-{k}-{finance}"] for k in ("lead", "co", "open", "red", "yellow")] == [2, 0, 1, 0, 0]


def test_lead_units_show_completion_rate_and_average_days_late(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    cast = supervision.cast
    general, secretariat, finance = (
        f"d{cast.general_dept.pk}",
        f"d{cast.secretariat.pk}",
        f"a{cast.finance.pk}",
    )

    html = sign_in(supervision.supervisor).get(DASHBOARD).content.decode()
    counts = {name: c for name, (c, _) in figures(html).items()}

    def cell(name: str) -> str:
        return re.search(rf'data-figure="{name}">([^<]*)<', html)[1]

    # 综合处 leads A and B (F, 已撤销, is left out): A is 5 days late today, B not yet due
    assert [counts[f"lead-{k}-{general}"] for k in ("total", "closed", "overdue", "report-late")] == [
        2,
        0,
        1,
        1,
    ]
    assert (cell(f"lead-rate-{general}"), cell(f"lead-late-days-{general}")) == ("0%", "5.0")
    # 秘书处: C on track, D 办结 4 days after its deadline and 销号
    assert [counts[f"lead-{k}-{secretariat}"] for k in ("total", "closed", "overdue", "report-late")] == [
        2,
        1,
        0,
        0,
    ]
    assert (cell(f"lead-rate-{secretariat}"), cell(f"lead-late-days-{secretariat}")) == ("50%", "4.0")
    # 省财政厅: G 办结 on time; nothing late
    assert (cell(f"lead-rate-{finance}"), cell(f"lead-late-days-{finance}")) == ("50%", "—")


def test_the_trend_counts_created_closed_and_overdue_per_month_over_twelve_months(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    counts = {name: c for name, (c, _) in board_of(sign_in(supervision.supervisor)).items()}

    months = sorted(k.removeprefix("created-") for k in counts if k.startswith("created-"))
    assert months[0] == "2025-07" and months[-1] == "2026-06" and len(months) == 12
    assert {m: counts[f"created-{m}"] for m in months if counts[f"created-{m}"]} == {
        "2026-04": 1,
        "2026-06": 6,
    }
    assert {m: counts[f"closed-{m}"] for m in months if counts[f"closed-{m}"]} == {"2026-06": 2}
    # A (due 06-12, still open) and D (due 06-05, 办结 06-09) missed June deadlines; G did not
    assert {m: counts[f"overdue-{m}"] for m in months if counts[f"overdue-{m}"]} == {"2026-06": 2}


def test_a_deadline_missed_before_the_trends_window_counts_in_the_totals_not_in_the_trend(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    from workflows.supervision_stats import ItemFilter, dashboard

    # given: an open item of 综合处 whose deadline passed in 2024, before the 12 months shown
    make_item(
        supervision,
        "两年前到期仍未办结的事项",
        lead=supervision.cast.general_dept,
        state="handle",
        light="red",
        due_on=date(2024, 1, 10),
        next_report_on=date(2026, 6, 30),
        number="督〔2024〕9号",
    )
    general = f"d{supervision.cast.general_dept.pk}"

    counts = {name: c for name, (c, _) in board_of(sign_in(supervision.supervisor)).items()}

    # then: it is overdue in the tile and for its lead unit, and no month of the trend shows it
    assert counts["overdue"] == 2 and counts[f"lead-overdue-{general}"] == 2
    assert {k: v for k, v in counts.items() if k.startswith("overdue-") and v} == {"overdue-2026-06": 2}
    # and the tally's page (rows before the window summed into one) equals the item-by-item count
    tallied = dashboard(supervision.supervisor, ItemFilter())
    assert tallied == dashboard(supervision.supervisor, ItemFilter(), use_tally=False)
    assert next(r for r in tallied.leads if r.code == general).average_days_late == (889 + 5) / 2


def test_unit_names_in_the_bar_tables_are_escaped(known: KnownSet, supervision: Any, sign_in: Any) -> None:
    from officeapp.org.models import Department

    # given: a department whose name holds markup (the tables are written in Python, not the template)
    Department.objects.filter(pk=supervision.cast.general_dept.pk).update(name='综合处<i class="x">&')

    html = sign_in(supervision.supervisor).get(DASHBOARD).content.decode()

    assert '<i class="x">' not in html
    assert '<th scope="row">综合处&lt;i class=&quot;x&quot;&gt;&amp;</th>' in html


def test_the_unit_filter_lists_the_pages_units_with_the_chosen_one_selected(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    general = f"d{supervision.cast.general_dept.pk}"

    html = sign_in(supervision.supervisor).get(f"{DASHBOARD}?unit={general}").content.decode()

    # the units of 综合处's items (秘书处 helps with A and leads C), by name, 综合处 chosen
    select = html.split('<select name="unit"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"( selected)?>', select) == [
        ("", ""),
        (f"d{supervision.cast.secretariat.pk}", ""),
        (general, " selected"),
    ]


def test_the_overdue_and_due_this_week_lists_name_their_items(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    html = sign_in(supervision.supervisor).get(DASHBOARD).content.decode()

    overdue = html.split('id="h-overdue"')[1].split("</section>")[0]
    due_week = html.split('id="h-due-week"')[1].split("</section>")[0]
    assert "逾期事项（1件）" in html and known.items["A"].title in overdue
    assert known.items["B"].title not in overdue
    assert "本周到期（1件）" in html and known.items["B"].title in due_week


# --- who sees what ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "titles"),
    [
        ("supervisor", "ABCDEFG"),  # the 督查室: the agency's every item
        ("dept_head", "ABCF"),  # 综合处's head: what 综合处 leads or helps with
        ("secretariat_head", "ACD"),  # 秘书处's head
        ("leader", "ABCF"),  # 王德明, 分管 综合处 (and A's 批办领导)
        ("chief", "ABCDF"),  # 分管 the whole 办公厅: its departments' items, not 省财政厅's
        ("finance_director", "EG"),  # 省财政厅's office: what 省财政厅 leads
    ],
)
def test_each_role_sees_only_its_scope(
    known: KnownSet, supervision: Any, sign_in: Any, who: str, titles: str
) -> None:
    person = {
        "supervisor": supervision.supervisor,
        "dept_head": supervision.dept_head,
        "secretariat_head": supervision.secretariat_head,
        "leader": supervision.leader,
        "chief": supervision.chief,
        "finance_director": supervision.flow_cast.finance_director,
    }[who]
    client = sign_in(person)

    board = board_of(client)
    count, listed_titles = listed(client, board["total"][1])

    assert board["total"][0] == count == len(titles)
    assert sorted(listed_titles) == sorted(known.items[k].title for k in titles)


def test_staff_without_a_dashboard_role_get_403(known: KnownSet, supervision: Any, sign_in: Any) -> None:
    for person in (supervision.cast.drafter, supervision.general_staff, supervision.cast.outsider):
        client = sign_in(person)
        for url in (DASHBOARD, LIST, EXPORT):
            response = client.get(url)
            assert response.status_code == 403
            assert "督办看板供处室负责人、督查室（办公室）和领导使用" in response.content.decode()


def test_a_department_head_cannot_list_another_units_items_by_asking_for_them(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    # given: 省财政厅's items are not 综合处's
    client = sign_in(supervision.dept_head)

    # when: she writes 省财政厅 into the list's parameters
    count, titles = listed(client, f"{LIST}?lead=a{supervision.cast.finance.pk}&counted=1")

    # then: nothing of theirs
    assert (count, titles) == (0, [])


# --- click-through: a bar's list has exactly the bar's rows ---------------------------------------------


def test_every_number_on_the_dashboard_opens_a_list_of_exactly_that_many_items(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)
    board = board_of(client)
    assert len(board) > 40  # tiles, lights, states, sources, units, lead units, 12 months × 3

    for name, (count, href) in board.items():
        assert href.startswith(LIST), name
        shown, titles = listed(client, href)
        assert shown == count == len(titles), f"{name}: bar {count}, list {shown}, rows {len(titles)}"


def test_a_bar_under_filters_keeps_the_filters_in_its_list(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    # given: the dashboard filtered to 领导批示 and 综合处 taking part
    cast = supervision.cast
    client = sign_in(supervision.supervisor)
    board = board_of(client, f"source=instruction&unit=d{cast.general_dept.pk}")

    # then: A and C (F is 已撤销 and not open): the red bar is A, the open tile A and C
    assert board["total"][0] == 3
    assert board["open"][0] == 2
    assert board["light-red"][0] == 1
    count, titles = listed(client, board["light-red"][1])
    assert (count, titles) == (1, [known.items["A"].title])
    query = parse_qs(urlparse(board["light-red"][1]).query)
    assert query["source"] == ["instruction"] and query["unit"] == [f"d{cast.general_dept.pk}"]


def test_importance_and_period_filters_narrow_every_figure(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)

    assert board_of(client, "importance=important")["total"][0] == 1
    april = board_of(client, "date_from=2026-04-01&date_to=2026-04-30")
    assert april["total"][0] == 1 and april["created-2026-04"][0] == 1 and april["created-2026-06"][0] == 0


def test_a_refused_filter_is_named_and_the_rest_still_applies(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)

    response = client.get(DASHBOARD + "?date_from=2026-06-30&date_to=2026-06-01&source=meeting")

    html = response.content.decode()
    assert response.status_code == 200
    assert "立项止日不能早于起日。" in html
    assert figures(html)["total"][0] == 1  # 会议决定 still applies
    assert 'value="2026-06-30"' in html  # what was typed stays


def test_a_list_with_a_malformed_condition_lists_nothing_and_says_why(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)

    for query in ("light=purple", "lead=x1", "month=2026-06", "month=junk&series=created"):
        response = client.get(f"{LIST}?{query}")
        html = response.content.decode()
        assert response.status_code == 200
        assert "筛选条件有误" in html, query
        assert listed(client, f"{LIST}?{query}") == (0, []), query


# --- Excel export --------------------------------------------------------------------------------------


def test_the_export_holds_the_same_rows_as_the_list_with_formulas_kept_as_text(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    from workflows.models import SupervisionItem

    # given: an item whose title would be a formula in a careless export
    SupervisionItem.objects.filter(pk=known.items["B"].pk).update(
        title='=HYPERLINK("http://x.example","点击")'
    )
    client = sign_in(supervision.dept_head)

    # when: 综合处's head exports her open items
    response = client.get(f"{EXPORT}?open=1")

    # then: A, B and C, as text
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("督办编号", "督办事项", "任务来源", "牵头单位")
    by_number = {r[0]: r for r in rows[1:]}
    assert sorted(by_number) == ["督〔2026〕1号", "督〔2026〕2号", "督〔2026〕3号"]
    assert by_number["督〔2026〕1号"][2:7] == ("领导批示", "综合处", "秘书处", "2026-06-01", "2026-06-12")
    assert by_number["督〔2026〕1号"][8:10] == ("承办", "红灯")
    formula_row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "督〔2026〕2号")
    assert formula_row[1].value.startswith("=HYPERLINK") and formula_row[1].data_type == "s"


def test_the_export_is_audited_with_the_filter_and_no_text(
    known: KnownSet, supervision: Any, sign_in: Any
) -> None:
    from officeapp.audit.models import AuditEvent

    response = sign_in(supervision.supervisor).get(f"{EXPORT}?light=red")
    b"".join(response.streaming_content)

    event = AuditEvent.objects.filter(action="workflows.supervision_export.download").get()
    assert event.details == {"light": "red", "rows": 1}


# --- query count -------------------------------------------------------------------------------------------


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(DASHBOARD).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboards_query_count_does_not_grow_with_the_items(supervision: Any, sign_in: Any) -> None:
    cast = supervision.cast
    few_client = sign_in(supervision.dept_head)
    for n in range(3):
        make_item(
            supervision,
            f"事项{n}",
            lead=cast.general_dept,
            co=(cast.secretariat,),
            state="handle",
            due_on=date(2026, 6, 1 + n),
            light="red",
        )
    few = _queries(few_client)

    for n in range(3, 30):
        make_item(
            supervision,
            f"事项{n}",
            lead=cast.general_dept if n % 2 else cast.secretariat,
            co=(cast.secretariat,) if n % 2 else (cast.general_dept,),
            state="handle",
            due_on=date(2026, 6, 1 + n % 28),
            light="yellow",
            created_at=at(date(2026, 1 + n % 6, 3)),
        )
    many = _queries(few_client)

    assert few == many
    assert many <= 22  # session, user, grants, portfolio, 13 figures and lists, audit, the shell


# --- the permission matrix's entries, checked here while the pages are mounted by this module ---------


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("dashboard", DASHBOARD),
        ("list", LIST),
        ("export", EXPORT),
        ("bulletin", "/workflows/supervision/bulletin/"),
    ],
)
def test_every_member_of_the_cast_gets_the_matrix_status(cast: Any, name: str, url: str) -> None:
    from tests.conftest import CAST_USERS
    from tests.security import matrix_supervision_dashboard as matrix
    from tests.security.test_permission_matrix import _client_for

    expected = matrix._BULLETIN if name == "bulletin" else matrix._DASHBOARD

    got = {who: _client_for(who, cast).get(url).status_code for who in ["anonymous", *CAST_USERS]}

    assert got == {who: expected.get(who, expected["*"]) for who in got}
