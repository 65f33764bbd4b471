"""Generated searchable items for the search benchmark: Chinese government text and realistic principals.

    pop = population()                          # 500 agencies, 3,000 departments, 20,000 users
    docs = list(generate(pop, 1_000_000))       # IndexDocs, deterministic (seeded)
    users = pop.sample_users(100)               # realistic searchers
    pop.principals_of(user_id)                  # {"u:7": None, "dept:7": None, "conv:12": 40, …}

Text. Titles follow the shapes of real 公文 titles ("关于做好2026年防汛防台风工作的通知"); bodies are
sentences of 公文 vocabulary (防汛, 防台风, 乡村振兴, 资金, 大数据, 数字政府, 安全生产 …) with Zipf-like
frequencies (general words in most items, each item about one or two topics: see GENERAL), function
characters and random common characters (GB2312 level 1, the 3,755 everyday ones), so that a term
occurs inside longer words (台风 inside 防汛防台风, 数据 inside 大数据) as it does in real text. Lengths
vary by kind: documents ≈ 250 characters of body (an abstract-sized first part), attachments ≈ 400,
supervision items ≈ 150, meetings ≈ 200 with their minutes, chat messages a short line. 文号 like
粤府办〔2026〕12号; dates over five years, more of them recent.

Kinds mixed as a province's office system holds them: 30% documents, 15% attachments (each right after
its document, same principals), 10% supervision items, 5% meetings, 40% chat messages.

Principals (the engine only compares strings; the namespaces are the bench's own, shaped like the
apps'). Every user has "u:<id>", "dept:<own department>", "agency:<own agency>"; some hold a role in
their agency ("doc-clerk:", "doc-office:", "sup-whole:", "mtg-admin:"); leaders oversee 2–4
departments ("dept:<d>" each); everyone is in 2–20 chat conversations ("conv:<id>"), a fifth of them
joined late (a floor: only messages with acl_seq above it). A document is visible to its agency or
to 1–3 of its departments, its participants, its agency's office and every agency it was sent to
(most documents to a few agencies, one in ten to 50–300); a typical user's principal set is 5–30
strings and she sees 1–5% of all items (the benchmark prints the distribution it measured).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from search.interface import IndexDoc

SEED = 20_260_909
AGENCIES = 500
DEPARTMENTS = 3_000
USERS = 20_000
CONVERSATIONS = 30_000

# GB2312 level 1: the 3,755 characters of everyday text (rows 0xB0–0xD7).
COMMON = "".join(
    bytes([hi, lo]).decode("gb2312")
    for hi in range(0xB0, 0xD8)
    for lo in range(0xA1, 0xFF)
    if (hi, lo) < (0xD7, 0xFA)
)
# The characters that make up most of any Chinese text, drawn far more often than the rest.
FUNCTION = "的是在了和与及对为以等将由其有并从按于把被这各该此所之中要个年月日不也就都而可已应当进行"

# Real 公文 text is Zipf-like: a few general words (工作, 落实, 加强) are in nearly every document, and a
# topic (防汛, 乡村振兴) is what a few percent of documents are about, repeated within those and
# rarely mentioned elsewhere. So the text of an item is drawn from
# - GENERAL words, most used first, with Zipf weights 1/rank (s = 1);
# - the item's own topic (one, one in three items two), a topic chosen with Zipf–Mandelbrot weights
#   1/(rank + 2) over TOPICS, most written-about first (my ordering of what a province's offices
#   write about; the offset flattens the head as measured word lists do: the first topic is not
#   ten times the tenth); the topic's words uniformly;
# - a stray mention of another topic's word now and then (the same topic weights);
# - function characters (的, 是, 在 …), Zipf 1/rank in the order of FUNCTION, and random common
#   characters.
# This gives a topic word like 防汛 in a few percent of the items and general words in most: the
# benchmark prints the share of items each query class matches. (The first runs drew every
# vocabulary word uniformly, so every word was in 20–60% of all items; the benchmark keeps such
# "very broad" words as a query class of their own.)
_GENERAL = (
    "工作 落实 加强 推进 做好 开展 组织 实施 各地 各部门 有关单位 各单位 部署 完善 健全 建立 提升 强化 统筹 "
    "协调 保障 监督 考核 贯彻落实 责任单位 牵头单位 按时 报送 汇总 反馈 整改 年度 上半年 年底前 第一季度 "
    "第二季度 领导小组 办公厅 人民政府 省政府 市政府 县政府 通知 意见 方案 办法 规定 报告 请示 批复 函 纪要 "
    "通报 决定 验收 广东省 广州市 深圳市 佛山市 东莞市 珠海市 汕头市 惠州市 江门市 湛江市 茂名市 肇庆市 "
    "梅州市 韶关市"
)
GENERAL = tuple(_GENERAL.split())
TOPICS = tuple(
    tuple(t.split())
    for t in (
        "资金 专项资金 资金管理 财政资金 预算 决算",
        "项目建设 重点项目 招商引资 基础设施",
        "安全生产 安全隐患 隐患排查 排查整治",
        "督促检查 督查督办",
        "高质量发展 十四五 规划 三年行动",
        "营商环境 优化营商环境 政务服务 一网通办",
        "审计 审计整改 绩效评价 政府采购 国有资产",
        "乡村振兴 农村人居环境 耕地保护 粮食安全",
        "民生实事 就业 社会保障 养老服务 医疗保障 住房保障",
        "数字政府 大数据 数据共享 信息化 网络安全",
        "生态环境 污染防治 河长制 森林防火",
        "防汛 防台风 防汛防台风 抢险救灾 应急管理 应急预案",
        "党风廉政建设 作风建设",
        "基层治理 网格化管理 信访 矛盾纠纷 平安建设",
        "法治政府 依法行政 规范性文件",
        "政务公开 信息公开 档案管理 保密 公文处理 会议纪要",
        "教育 义务教育",
        "疫情防控 公共卫生 食品安全 市场监管",
        "知识产权 科技创新 人才引进",
        "交通运输 水利工程 城市更新 老旧小区改造",
    )
)
TOPIC_WEIGHTS = tuple(1 / (rank + 2) for rank in range(1, len(TOPICS) + 1))
VOCABULARY = tuple(dict.fromkeys((*GENERAL, *(w for t in TOPICS for w in t))))
TITLE_VERBS = (
    "关于做好",
    "关于加强",
    "关于印发",
    "关于开展",
    "关于进一步做好",
    "关于进一步加强",
    "关于推进",
    "关于报送",
)
TITLE_ENDS = (
    "工作的通知",
    "的实施意见",
    "工作方案的通知",
    "情况的报告",
    "的请示",
    "的批复",
    "的函",
    "有关事项的通知",
)
DOC_TYPES = (
    ("notice", "通知"),
    ("opinion", "意见"),
    ("report", "报告"),
    ("request", "请示"),
    ("reply", "批复"),
    ("letter", "函"),
    ("minutes", "纪要"),
    ("decision", "决定"),
)
STATUSES = (("issued", "已发布"), ("received", "已签收"), ("handling", "办理中"), ("archived", "已归档"))
CITIES = "广州 深圳 珠海 汕头 佛山 韶关 河源 梅州 惠州 汕尾 东莞 中山 江门 阳江 湛江 茂名 肇庆 清远 潮州 揭阳 云浮".split()  # noqa: SIM905
OFFICES = (  # noqa: SIM905
    "人民政府办公室 发展和改革局 教育局 科学技术局 工业和信息化局 公安局 民政局 司法局 财政局 人力资源和社会保障局 "
    "自然资源局 生态环境局 住房和城乡建设局 交通运输局 水务局 农业农村局 商务局 文化广电旅游体育局 卫生健康委员会 "
    "退役军人事务局 应急管理局 审计局 市场监督管理局 统计局 医疗保障局 政务服务数据管理局 林业局 信访局"
).split()
START = datetime(2022, 1, 1, tzinfo=UTC)
DAYS = 5 * 365


@dataclass
class Agency:
    id: int
    name: str
    code: str  # 机关代字: 粤府办, 穗财农 …
    departments: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)


@dataclass
class Population:
    agencies: list[Agency]  # index = id - 1
    department_agency: list[int]  # index = department id - 1
    user_department: list[int]  # index = user id - 1
    roles: dict[int, list[str]]  # user id -> extra principals (roles, overseen departments)
    memberships: dict[int, list[tuple[int, int | None]]]  # user id -> [(conversation, floor)]
    conversation_agency: list[int]  # index = conversation id - 1
    seed: int = SEED

    def agency_of_user(self, user_id: int) -> int:
        return self.department_agency[self.user_department[user_id - 1] - 1]

    def principals_of(self, user_id: int) -> dict[str, int | None]:
        department = self.user_department[user_id - 1]
        principals: dict[str, int | None] = {
            f"u:{user_id}": None,
            f"dept:{department}": None,
            f"agency:{self.department_agency[department - 1]}": None,
        }
        for principal in self.roles.get(user_id, ()):
            principals[principal] = None
        for conversation, floor in self.memberships.get(user_id, ()):
            principals[f"conv:{conversation}"] = floor
        return principals

    def sample_users(self, n: int, *, seed: int = 7) -> list[int]:
        return random.Random(self.seed + seed).sample(range(1, USERS + 1), n)


def population(seed: int = SEED) -> Population:
    rng = random.Random(seed)
    agencies: list[Agency] = []
    for a in range(1, AGENCIES + 1):
        if a <= 60:  # provincial departments and offices
            office = (
                OFFICES[(a - 1) % len(OFFICES)]
                .replace("局", "厅")
                .replace("人民政府办公室", "人民政府办公厅")
            )
            name, code = f"广东省{office}", "粤" + office[0] + ("办" if a % 3 == 0 else "")
        else:
            city = CITIES[a % len(CITIES)]
            office = OFFICES[(a // len(CITIES)) % len(OFFICES)]
            county = "" if a < 250 else rng.choice("东西南北中新") + rng.choice("城山江海湖河") + "区"
            name = f"{city}市{county}{office}"
            code = city[0] + (county[:1] or "") + office[0] + ("办" if a % 2 else "")
        agencies.append(Agency(a, name, code))
    department_agency = [(d - 1) % AGENCIES + 1 for d in range(1, DEPARTMENTS + 1)]
    for d, a in enumerate(department_agency, start=1):
        agencies[a - 1].departments.append(d)
    user_department = [(u - 1) % DEPARTMENTS + 1 for u in range(1, USERS + 1)]
    for u, d in enumerate(user_department, start=1):
        agencies[department_agency[d - 1] - 1].users.append(u)

    roles: dict[int, list[str]] = {}
    for u in range(1, USERS + 1):
        a = department_agency[user_department[u - 1] - 1]
        mine: list[str] = []
        if u % 40 == 0:
            mine.append(f"doc-clerk:{a}")
        if u % 25 == 1:
            mine.append(f"doc-office:{a}")
        if u % 50 == 7:  # a leader: the whole agency's 督办 and 2–4 departments overseen
            mine.append(f"sup-whole:{a}")
            mine += [f"dept:{d}" for d in rng.sample(agencies[a - 1].departments, min(rng.randint(2, 4), 6))]
        if u % 100 == 3:
            mine.append(f"mtg-admin:{a}")
        if mine:
            roles[u] = mine

    # Conversations: mostly within one agency, 3–30 members; every user ends up in 2–20.
    conversation_agency = [(c - 1) % AGENCIES + 1 for c in range(1, CONVERSATIONS + 1)]
    memberships: dict[int, list[tuple[int, int | None]]] = {u: [] for u in range(1, USERS + 1)}
    for u in range(1, USERS + 1):
        own = department_agency[user_department[u - 1] - 1]
        for _ in range(rng.randint(2, 20)):
            # Half of one's conversations are in one's own agency (conversation c belongs to agency
            # (c - 1) % AGENCIES + 1), the rest anywhere.
            c = rng.randint(1, CONVERSATIONS)
            if rng.random() < 0.5:
                c = own + AGENCIES * rng.randrange(CONVERSATIONS // AGENCIES)
            floor = rng.randint(1, 30) if rng.random() < 0.2 else None
            memberships[u].append((c, floor))
    return Population(
        agencies, department_agency, user_department, roles, memberships, conversation_agency, seed
    )


class _Writer:
    """Chinese text with the Zipf-like frequencies described at GENERAL.

    A text is a run of parts drawn at once (a general word 33%, a word of the item's topics 20%, a
    stray word of any topic 2%, a function character 25%, one to three random common characters 20%),
    a comma or a full stop after about one part in six: the same shape as drawing sentence by
    sentence, with a few calls into the generator per text instead of hundreds (a million texts are
    made per run). new_item() chooses the topics of the next item (an attachment keeps its
    document's)."""

    RANDOM = ""  # marks a part filled with random common characters
    OWN = "\x01"  # a word of the item's topics
    STRAY = "\x02"  # a word of a topic chosen by TOPIC_WEIGHTS
    PARTS = (*GENERAL, *FUNCTION, RANDOM, OWN, STRAY)
    WEIGHTS = (
        *(33 / (r * sum(1 / i for i in range(1, len(GENERAL) + 1))) for r in range(1, len(GENERAL) + 1)),
        *(25 / (r * sum(1 / i for i in range(1, len(FUNCTION) + 1))) for r in range(1, len(FUNCTION) + 1)),
        20,
        20,
        2,
    )
    AFTER = ("",) * 10 + ("，",) + ("。",) * 2

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cum = list(itertools.accumulate(self.WEIGHTS))
        self.topic_cum = list(itertools.accumulate(TOPIC_WEIGHTS))
        self.words: tuple[str, ...] = TOPICS[0]

    def new_item(self) -> None:
        rng = self.rng
        chosen = rng.choices(TOPICS, cum_weights=self.topic_cum, k=2 if rng.random() < 1 / 3 else 1)
        self.words = tuple(w for t in dict.fromkeys(chosen) for w in t)

    def text(self, chars: int) -> str:
        rng = self.rng
        k = max(2, chars * 10 // 27)  # ≈ 2.7 characters per part with its punctuation
        parts = rng.choices(self.PARTS, cum_weights=self.cum, k=k)
        empty = parts.count(self.RANDOM)
        randoms = "".join(rng.choices(COMMON, k=3 * empty))
        lengths = iter(rng.choices((1, 2, 2, 3), k=empty))
        after = rng.choices(self.AFTER, k=k)
        out = []
        at = 0
        for p, a in zip(parts, after, strict=True):
            if not p:
                n = next(lengths)
                p = randoms[at : at + n]
                at += n
            elif p == self.OWN:
                p = rng.choice(self.words)
            elif p == self.STRAY:
                p = rng.choice(rng.choices(TOPICS, cum_weights=self.topic_cum)[0])
            out.append(p + a)
        if not after[-1]:
            out.append("。")
        return "".join(out)

    def topic(self, most: int) -> str:
        """One to `most` words of the item's topics, as a title names its subject."""
        rng = self.rng
        return "".join(rng.choice(self.words) for _ in range(rng.randint(1, most)))

    def title(self, year: int) -> str:
        rng = self.rng
        topic = self.topic(3)
        if rng.random() < 0.3:
            topic = f"{year}年{topic}"
        return f"{rng.choice(TITLE_VERBS)}{topic}{rng.choice(TITLE_ENDS)}"


def generate(pop: Population, n: int, *, seed: int | None = None) -> Iterator[IndexDoc]:
    """n IndexDocs (keys "document:1", "attachment:1", "supervision:1", "meeting:1", "message:1" …)."""
    rng = random.Random(pop.seed if seed is None else seed)
    w = _Writer(rng)
    serial: dict[tuple[int, int], int] = {}
    counters = {"document": 0, "attachment": 0, "supervision": 0, "meeting": 0, "message": 0}
    conversation_seq = [0] * CONVERSATIONS
    made = 0

    def when() -> datetime:
        # More recent records than old ones: a power below 1 skews towards the end of the range.
        day = int(DAYS * rng.random() ** 0.7)
        return START + timedelta(days=day, seconds=rng.randrange(8 * 3600, 18 * 3600))

    def users_of(agency: Agency, k: int) -> list[str]:
        return [f"u:{u}" for u in rng.sample(agency.users, min(k, len(agency.users)))]

    def recipients() -> list[int]:
        r = rng.random()
        k = rng.randint(0, 3) if r < 0.6 else rng.randint(5, 20) if r < 0.9 else rng.randint(50, 300)
        return rng.sample(range(1, AGENCIES + 1), k)

    while made < n:
        w.new_item()
        kind_draw = rng.random()
        agency = pop.agencies[rng.randrange(AGENCIES)]
        date = when()
        if kind_draw < 0.3:
            counters["document"] += 1
            i = counters["document"]
            year = date.year
            serial[(agency.id, year)] = number = serial.get((agency.id, year), 0) + 1
            doc_type, doc_type_label = rng.choice(DOC_TYPES)
            status, status_label = rng.choice(STATUSES)
            principals = {f"doc-office:{agency.id}", *users_of(agency, rng.randint(2, 5))}
            if rng.random() < 0.5:
                principals.add(f"agency:{agency.id}")
            else:
                principals.update(f"dept:{d}" for d in rng.sample(agency.departments, rng.randint(1, 3)))
            principals.update(f"agency:{r}" for r in recipients())
            doc_number = f"{agency.code}〔{year}〕{number}号"
            title = w.title(year)
            common = {
                "agency_id": agency.id,
                "agency_name": agency.name,
                "doc_number": doc_number,
                "doc_type": doc_type,
                "doc_type_label": doc_type_label,
                "status": status,
                "status_label": status_label,
                "date": date,
                "principals": frozenset(principals),
            }
            yield IndexDoc(
                key=f"document:{i}",
                kind="document",
                title=title,
                body=w.text(rng.randint(120, 400)),
                url=f"/documents/{i}/",
                **common,
            )
            made += 1
            if made < n and rng.random() < 0.5:
                # One attachment in two documents here; together with the kind mix this gives ≈ 15%.
                counters["attachment"] += 1
                j = counters["attachment"]
                yield IndexDoc(
                    key=f"attachment:{j}",
                    kind="attachment",
                    title=f"附件{rng.randint(1, 3)}：{w.title(year)[2:]}.docx",
                    body=w.text(rng.randint(200, 600)),
                    url=f"/documents/{i}/attachments/{j}/",
                    **common,
                )
                made += 1
        elif kind_draw < 0.45:
            counters["supervision"] += 1
            i = counters["supervision"]
            status, status_label = rng.choice(
                (("handling", "办理中"), ("done", "已办结"), ("overdue", "已逾期"))
            )
            principals = {f"sup-whole:{agency.id}", *users_of(agency, rng.randint(1, 3))}
            principals.update(f"dept:{d}" for d in rng.sample(agency.departments, rng.randint(1, 3)))
            if rng.random() < 0.3:
                principals.add(f"agency:{agency.id}")
            yield IndexDoc(
                key=f"supervision:{i}",
                kind="supervision",
                title=f"督办：{w.title(date.year)[2:]}",
                body=w.text(rng.randint(80, 220)),
                principals=frozenset(principals),
                url=f"/workflows/supervision/{i}/",
                date=date,
                agency_id=agency.id,
                agency_name=agency.name,
                doc_number=f"督〔{date.year}〕{i}号",
                status=status,
                status_label=status_label,
            )
            made += 1
        elif kind_draw < 0.52:
            counters["meeting"] += 1
            i = counters["meeting"]
            principals = {f"mtg-admin:{agency.id}", *users_of(agency, rng.randint(5, 25))}
            for other in rng.sample(pop.agencies, rng.randint(0, 3)):
                principals.update(users_of(other, rng.randint(1, 3)))
            if rng.random() < 0.2:
                principals.add(f"agency:{agency.id}")
            yield IndexDoc(
                key=f"meeting:{i}",
                kind="meeting",
                title=f"{w.topic(2)}专题会议",
                body=w.text(rng.randint(100, 300)),
                principals=frozenset(principals),
                url=f"/meetings/{i}/",
                date=date,
                agency_id=agency.id,
                agency_name=agency.name,
                subtitle=date.strftime("%Y-%m-%d %H:%M"),
            )
            made += 1
        else:
            counters["message"] += 1
            i = counters["message"]
            c = rng.randint(1, CONVERSATIONS)
            conversation_seq[c - 1] += 1
            yield IndexDoc(
                key=f"message:{i}",
                kind="message",
                title=f"会话{c}",
                body=w.text(rng.randint(6, 60)),
                principals=frozenset({f"conv:{c}"}),
                url=f"/chat/{c}/#m{i}",
                date=date,
                agency_id=pop.conversation_agency[c - 1],
                agency_name=pop.agencies[pop.conversation_agency[c - 1] - 1].name,
                acl_seq=conversation_seq[c - 1],
            )
            made += 1


def visible(doc: IndexDoc, principals: dict[str, int | None]) -> bool:
    """The interface's rule, by brute force: one of the item's principals is the user's, above its floor."""
    for p in doc.principals:
        if p in principals:
            floor = principals[p]
            if floor is None or doc.acl_seq > floor:
                return True
    return False


def visible_indexes(docs: list[IndexDoc], users: list[dict[str, int | None]]) -> list[list[int]]:
    """For each principal set, the indexes of the docs it may see (`visible`), in one pass over the
    docs' principals instead of one per user."""
    wanted: dict[str, list[tuple[int, int | None]]] = {}
    for u, principals in enumerate(users):
        for p, floor in principals.items():
            wanted.setdefault(p, []).append((u, floor))
    seen: list[list[int]] = [[] for _ in users]
    for i, doc in enumerate(docs):
        hit: set[int] = set()
        for p in doc.principals:
            for u, floor in wanted.get(p, ()):
                if floor is None or doc.acl_seq > floor:
                    hit.add(u)
        for u in hit:
            seen[u].append(i)
    return seen


def searchable_text(doc: IndexDoc) -> str:
    """The fields the embedded engine matches a query against (title, 文号, body), joined by a
    character no query contains, so a term never matches across two fields."""
    return "\x00".join((doc.title, doc.doc_number, doc.body))
