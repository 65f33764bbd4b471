"""Benchmark: the embedded search engine (SQLite FTS5, search/engines/embedded.py) on 1,000,000
generated items — indexing rate and index size, recall against a brute-force substring scan, query
latency with a real user's permission filter against a bare FTS5 query in the same run, and index lag
under 50 changes per second through the outbox.

    TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_search_bench.py -p no:randomly
    BENCH_SEARCH_DOCS=100000 …   # a quick run (the figures in docs/benchmarks.md use 1,000,000)

Data: tests/bench/search_data.py (deterministic): Chinese government text, 500 agencies, 3,000
departments, 20,000 users; a typical user holds 5–30 principals and sees 1–5% of the items (printed).
The index is built once per module with `EmbeddedEngine.rebuild` into a temporary folder
(BENCH_SEARCH_INDEX=<path> keeps it there and reuses it when it already holds the right count: the
indexing figures are then not measured again).

1. Indexing: items/s through `rebuild` (the generation of the items is timed apart and not counted),
   the index's size on disk, and `index()` in batches of 500 into the full index (what the outbox
   consumer does).
2. Recall: 50 terms each of 1, 2, 3 and 4 characters (vocabulary words and random substrings of the
   generated text, so that terms cross word boundaries). The set of keys the engine matches is read
   from its SQLite file with the engine's own MATCH expression (the public API stops at MAX_PAGE
   pages and counts up to COUNT_CAP), and compared with `term in text` over every item's title, body,
   文号 and agency name. Through the public API too: for each 2–4-character term, `search().total`
   for a real user equals the brute-force count of items that contain the term and that she may see.
3. Latency: 50 queries each of one character, two characters, four characters, two terms (topic
   words: see `_query_sets`), and, labelled apart, very broad words (in at least 20% of all items:
   every query of the first runs, when the generator's words were uniform), each with a sampled
   user's principals (`search()` with facets and without), against the bare FTS5 query over the same
   index — the same MATCH, the same bm25 ORDER BY and LIMIT, no permission filter, no facets. The
   share of items each class matches is printed. ROUNDS rounds, interleaved query by query; the
   medians over rounds of each round's p50/p95, and the ratio to bare.
4. Index lag: changes emitted into the outbox (officeapp.outbox.services.emit) at 50/s for LAG_SECONDS
   while a thread drains the "search" consumer once a second as the worker's ticker does; per change
   the time from the emit's commit until a search (another engine object on the same file, as a web
   process has) finds it. The changes are built by a bench-only source registered under the prefix
   "benchlag" from the event's payload (the real sources build from the database; the cost measured
   is the outbox, the consumer and the engine's write into the 1,000,000-item index).

Figures are printed, not asserted; the assertions are the correctness ones (recall for 2–4
characters is 100%, every change is found).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.bench import search_data

DOCS = int(os.environ.get("BENCH_SEARCH_DOCS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "3"))
TERMS = int(os.environ.get("BENCH_SEARCH_TERMS", "50"))
LAG_RATE = int(os.environ.get("BENCH_SEARCH_LAG_RATE", "50"))
LAG_SECONDS = int(os.environ.get("BENCH_SEARCH_LAG_SECONDS", "60"))
KEEP_INDEX = os.environ.get("BENCH_SEARCH_INDEX", "")
USERS = 20
BATCH = 500

# Every test but the lag one in the test database's transaction: pytest-django runs these first and
# the transactional lag test (which writes into the index) last.
pytestmark = [pytest.mark.django_db]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


@dataclass
class Corpus:
    pop: search_data.Population
    docs: list[Any]
    texts: list[str]
    generated_seconds: float


@dataclass
class Built:
    engine: Any
    path: Path
    seconds: float | None  # None when a kept index was reused


@pytest.fixture(scope="module")
def corpus() -> Iterator[Corpus]:
    import gc

    started = time.perf_counter()
    pop = search_data.population()
    docs = list(search_data.generate(pop, DOCS))
    texts = [search_data.searchable_text(d) for d in docs]
    seconds = time.perf_counter() - started
    gc.freeze()  # a million long-lived objects: keep the collector from walking them on every pass
    print(f"\n生成 {DOCS:,} 条：{seconds:.1f} s（{_load()}）")
    yield Corpus(pop, docs, texts, seconds)


@pytest.fixture(scope="module")
def built(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from search.engines.embedded import EmbeddedEngine

    path = Path(KEEP_INDEX) if KEEP_INDEX else tmp_path_factory.mktemp("search-bench") / "index.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = EmbeddedEngine(path)
    if KEEP_INDEX and path.exists() and engine.count() == len(corpus.docs):
        print(f"\n沿用已建索引 {path}（{engine.count():,} 条）")
        yield Built(engine, path, None)
        return

    class Progress:
        def __init__(self) -> None:
            self.done = 0
            self.last = time.perf_counter()

        def update(self, n: int) -> None:
            self.done += n
            if time.perf_counter() - self.last > 30:
                self.last = time.perf_counter()
                print(f"  … {self.done:,} 条（{_load()}）", flush=True)

    started = time.perf_counter()
    written = engine.rebuild(iter(corpus.docs), total=len(corpus.docs), progress=Progress())
    seconds = time.perf_counter() - started
    assert written == len(corpus.docs) == engine.count()
    yield Built(engine, path, seconds)


def _index_files(path: Path) -> list[Path]:
    """The index's files: the database, its WAL and shared-memory files, and whatever the engine keeps
    beside it under the same name (a generation being built, a pointer to the current one)."""
    return [p for p in path.parent.iterdir() if p.is_file() and not p.is_symlink()]


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in _index_files(path)) / 1e6


# --- Below the public API: full match sets and the bare FTS5 query ------------------------------


def _matching_keys(built: Built, term: str) -> set[str]:
    """Every key the engine's MATCH for `term` finds, no permission filter, no page limit
    (EmbeddedEngine.matching_keys_unfiltered: for recall tests only, never for users)."""
    return built.engine.matching_keys_unfiltered((term,))


def _bare(built: Built, raw: str, limit: int) -> list[Any]:
    """The bare FTS5 query: the engine's MATCH expression and bm25 column weights, ORDER BY that
    bm25 and LIMIT, no permission filter, no meta join (recency), no facets, no highlighting; on the
    engine's own connection (same page cache and pragmas)."""
    from search.engines.embedded import BM25
    from search.query import parse
    from search.text import query_match

    parsed = parse(raw)
    expr = query_match(parsed.terms, parsed.phrases, parsed.excluded)
    conn = built.engine._conn()
    return conn.execute(
        f"SELECT rowid, {BM25} AS score FROM fts WHERE fts MATCH ? ORDER BY score LIMIT ?",  # noqa: S608 - BM25 is the engine's constant
        [expr, limit],
    ).fetchall()


# --- Tests ---------------------------------------------------------------------------------------


def test_machine(bench: Any) -> None:
    """The machine's load and the SQLite this ran on, printed with the figures."""

    def run(*args: str) -> str:
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()

    engine_file = "search/engines/embedded.py"
    last = run("git", "log", "-1", "--format=%h %cI", "--", engine_file) or "not committed"
    dirty = " (working tree differs)" if run("git", "status", "--porcelain", "--", engine_file) else ""
    print(f"\nuptime: {run('uptime')}; SQLite {sqlite3.sqlite_version}; {os.cpu_count()} CPU")
    print(f"{engine_file}: {last}{dirty}, blob {run('git', 'hash-object', engine_file)[:10]}")


def test_indexing_rate_and_index_size(corpus: Corpus, built: Built, bench: Any, tmp_path: Path) -> None:
    from search.engines.embedded import EmbeddedEngine

    size = _size_mb(built.path)
    chars = sum(len(t) for t in corpus.texts)
    rows: list[list[Any]] = []
    if built.seconds is not None:
        rows.append(
            [
                "rebuild()，全部",
                f"{len(corpus.docs):,}",
                round(built.seconds, 1),
                round(len(corpus.docs) / built.seconds),
            ]
        )
    # index() in batches of BATCH into the full index, as the outbox consumer writes: new keys, then
    # the same keys again (a replace).
    extra = [replace(d, key=f"extra-{d.key}") for d in search_data.generate(corpus.pop, 5_000, seed=99)]
    engine = EmbeddedEngine(built.path)
    changed = [replace(d, body=d.body + "修订。") for d in extra]
    for label, docs in (("index()，新条目", extra), ("index()，替换已有条目（正文有改动）", changed)):
        started = time.perf_counter()
        for i in range(0, len(docs), BATCH):
            engine.index(docs[i : i + BATCH])
        seconds = time.perf_counter() - started
        rows.append(
            [f"{label}，每批 {BATCH}", f"{len(docs):,}", round(seconds, 2), round(len(docs) / seconds)]
        )
    engine.delete(d.key for d in extra)
    bench.print_table(
        f"索引速度（{_load()}；正文 {chars / len(corpus.texts):.0f} 字/条；索引 {size:,.0f} MB，"
        f"{size * 1e6 / len(corpus.docs):,.0f} 字节/条）",
        ["方式", "条数", "秒", "条/秒"],
        rows,
    )
    kinds: dict[str, int] = {}
    for d in corpus.docs:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    acl = sum(len(d.principals) for d in corpus.docs)
    print(f"种类：{kinds}；权限主体行 {acl:,}（每条 {acl / len(corpus.docs):.1f}）")
    print(
        "索引文件："
        + ", ".join(f"{p.name} {p.stat().st_size / 1e6:,.0f} MB" for p in _index_files(built.path))
    )


def _recall_terms(corpus: Corpus, length: int, n: int, rng: random.Random) -> list[str]:
    """Half vocabulary (words of this length, or characters of words for length 1), half random
    substrings of the generated text made only of Chinese characters (they cross word boundaries)."""
    terms: dict[str, None] = {}
    if length == 1:
        pool = sorted({c for w in search_data.VOCABULARY for c in w})
    else:
        pool = sorted(w for w in search_data.VOCABULARY if len(w) == length)
        pool += sorted(
            {
                w[i : i + length]
                for w in search_data.VOCABULARY
                if len(w) > length
                for i in range(len(w) - length + 1)
            }
        )
    for w in rng.sample(pool, min(n // 2, len(pool))):
        terms[w] = None
    while len(terms) < n:
        text = corpus.docs[rng.randrange(len(corpus.docs))].body
        if len(text) <= length:
            continue
        i = rng.randrange(len(text) - length)
        piece = text[i : i + length]
        if all("\u4e00" <= c <= "\u9fff" for c in piece):
            terms[piece] = None
    return list(terms)


def test_recall_against_brute_force_substring_scan(corpus: Corpus, built: Built, bench: Any) -> None:
    from search.interface import SearchQuery
    from search.query import parse

    rng = random.Random(1)
    users = corpus.pop.sample_users(USERS)
    user_principals = [corpus.pop.principals_of(u) for u in users]
    seen = search_data.visible_indexes(corpus.docs, user_principals)
    rows: list[list[Any]] = []
    misses: list[str] = []
    api_mismatch: list[str] = []
    for length in (1, 2, 3, 4):
        terms = _recall_terms(corpus, length, TERMS, rng)
        expected_total = found_total = extra_total = 0
        perfect = checked = agreed = 0
        started = time.perf_counter()
        for t_no, term in enumerate(terms):
            expected = {corpus.docs[i].key for i, text in enumerate(corpus.texts) if term in text}
            got = _matching_keys(built, term)
            found = len(expected & got)
            expected_total += len(expected)
            found_total += found
            extra_total += len(got - expected)
            perfect += found == len(expected)
            if found < len(expected):
                misses.append(f"{term}: {len(expected) - found}/{len(expected)} missed")
            if length >= 2:
                # The public API for a real user: the total equals the brute-force count of what she
                # may see (exact below COUNT_CAP).
                u = t_no % len(users)
                principals = user_principals[u]
                should = sum(1 for i in seen[u] if term in corpus.texts[i])
                results = built.engine.search(SearchQuery(parse(term), principals, facets=False))
                checked += not results.total_capped
                agreed += not results.total_capped and results.total == should
                if not results.total_capped and results.total != should:
                    api_mismatch.append(
                        f"{term} (user {users[t_no % len(users)]}): search {results.total}, scan {should}"
                    )
        rows.append(
            [
                f"{length} 字",
                len(terms),
                f"{expected_total:,}",
                f"{found_total / expected_total:.2%}" if expected_total else "—",
                f"{perfect}/{len(terms)}",
                f"{extra_total:,}",
                f"{agreed}/{checked}" if length >= 2 else "—",
                round(time.perf_counter() - started, 1),
            ]
        )
    bench.print_table(
        f"召回率：引擎匹配集 vs 逐条子串扫描（{len(corpus.docs):,} 条；{_load()}）",
        [
            "词长",
            "词数",
            "应匹配条数（合计）",
            "召回率",
            "全部找到的词",
            "多匹配的条数",
            "用户 search() 总数 = 扫描",
            "秒",
        ],
        rows,
    )
    for line in misses[:20]:
        print("  漏：", line)
    for line in api_mismatch[:20]:
        print("  search() 总数不符：", line)
    assert not [m for m in misses if len(m.split(":")[0]) >= 2], misses[:10]
    assert api_mismatch == [], api_mismatch[:10]


def _share(texts: list[str], raw: str) -> float:
    """The share of these texts that contain every term of the query."""
    terms = raw.split()
    return sum(all(t in text for t in terms) for text in texts) / len(texts)


BROAD = 0.2  # a "very broad" query matches at least this share of all items


def _query_sets(rng: random.Random, sample: list[str]) -> dict[str, list[str]]:
    """What people type: topic words (防汛, 乡村振兴, 审计 …) of two and four characters, two terms
    (a topic word and another word, like 乡村振兴 资金), single characters (of vocabulary words and
    random common ones). And, labelled apart, very broad words: every vocabulary word of 2–4
    characters found in at least BROAD of the items (工作, 落实, 资金 …), what every query of the first
    runs was when the generator drew all words uniformly (each word in 20–60% of all items)."""
    topic_words = sorted({w for t in search_data.TOPICS for w in t})
    two = [w for w in topic_words if len(w) == 2]
    four = [w for w in topic_words if len(w) == 4]
    chars = sorted({c for w in search_data.VOCABULARY for c in w})
    ones = rng.sample(chars, TERMS * 3 // 5) + rng.sample(search_data.COMMON, TERMS - TERMS * 3 // 5)
    pairs = []
    while len(pairs) < TERMS:
        a, b = rng.choice(topic_words), rng.choice(search_data.VOCABULARY)
        if a not in b and b not in a:
            pairs.append(f"{a} {b}")
    broad = [w for w in search_data.VOCABULARY if 2 <= len(w) <= 4 and _share(sample, w) >= BROAD]
    return {
        "1 字": ones,
        "2 字": rng.sample(two * (TERMS // len(two) + 1), TERMS),
        "4 字": rng.sample(four * (TERMS // len(four) + 1), TERMS),
        "两个词": pairs,
        f"很宽的词（≥ {BROAD:.0%} 的条目含有）": (broad * (TERMS // max(1, len(broad)) + 1))[:TERMS],
    }


def test_query_latency_with_permission_filter_against_bare_fts5(
    corpus: Corpus, built: Built, bench: Any
) -> None:
    from search.interface import PER_PAGE, SearchQuery
    from search.query import parse

    rng = random.Random(2)
    users = corpus.pop.sample_users(USERS)
    principals = [corpus.pop.principals_of(u) for u in users]
    sizes = sorted(len(p) for p in principals)
    seen = sorted(
        100 * len(v) / len(corpus.docs) for v in search_data.visible_indexes(corpus.docs, principals)
    )
    print(
        f"\n{USERS} 位用户：权限主体 {sizes[0]}–{sizes[-1]} 个（中位 {statistics.median(sizes)}），"
        f"可见 {seen[0]:.2f}%–{seen[-1]:.2f}%（中位 {statistics.median(seen):.2f}%）"
    )
    sample = random.Random(4).sample(corpus.texts, min(20_000, len(corpus.texts)))
    sets = _query_sets(rng, sample)
    engine = built.engine
    for cls, queries in sets.items():
        shares = sorted(_share(sample, q) for q in set(queries))
        print(
            f"{cls}：{len(set(queries))} 个不同查询，匹配条目占比 中位 {statistics.median(shares):.1%}，"
            f"最小 {shares[0]:.2%}，最大 {shares[-1]:.1%}（抽样 {len(sample):,} 条）"
        )

    def timed(call: Callable[[], Any]) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    variants: dict[str, Callable[[str, Any], Callable[[], Any]]] = {
        "search()，含分面": lambda raw, p: lambda: engine.search(SearchQuery(parse(raw), p)),
        "search()，不含分面": lambda raw, p: lambda: engine.search(SearchQuery(parse(raw), p, facets=False)),
        "裸 FTS5（同一 MATCH + bm25 排序 + LIMIT）": lambda raw, p: lambda: _bare(built, raw, PER_PAGE),
    }
    # Warm-up: every query once in every variant (page cache, statement caches).
    for queries in sets.values():
        for q_no, raw in enumerate(queries):
            for make in variants.values():
                make(raw, principals[q_no % USERS])()

    # samples[class][variant][round] = [ms per query]
    samples: dict[str, dict[str, list[list[float]]]] = {c: {v: [] for v in variants} for c in sets}
    started = time.perf_counter()
    for round_no in range(ROUNDS):
        for cls, queries in sets.items():
            per_variant: dict[str, list[float]] = {v: [] for v in variants}
            for q_no, raw in enumerate(queries):
                order = list(variants)
                order = order[round_no % len(order) :] + order[: round_no % len(order)]
                for name in order:
                    per_variant[name].append(
                        timed(variants[name](raw, principals[(q_no + round_no) % USERS]))
                    )
            for name, values in per_variant.items():
                samples[cls][name].append(values)
    print(
        f"{ROUNDS} 轮 × {sum(len(q) for q in sets.values())} 个查询 × {len(variants)} 种：{time.perf_counter() - started:.0f} s（{_load()}）"
    )

    rows: list[list[Any]] = []
    bare_name = list(variants)[-1]
    for cls in sets:
        bare = [bench.percentiles(r) for r in samples[cls][bare_name]]
        bare50 = statistics.median(p[0] for p in bare)
        bare95 = statistics.median(p[1] for p in bare)
        for name in variants:
            per_round = [bench.percentiles(r) for r in samples[cls][name]]
            p50 = statistics.median(p[0] for p in per_round)
            p95 = statistics.median(p[1] for p in per_round)
            worst = max(p[2] for p in per_round)
            rows.append(
                [
                    cls,
                    name,
                    round(p50, 2),
                    round(p95, 2),
                    round(worst, 1),
                    round(p50 / bare50, 2),
                    round(p95 / bare95, 2),
                ]
            )
    bench.print_table(
        f"查询延迟（{len(corpus.docs):,} 条；每类 {TERMS} 个查询 × {ROUNDS} 轮，各轮 p50/p95 的中位数；{_load()}）",
        ["查询", "方式", "p50 ms", "p95 ms", "最慢 ms", "p50 / 裸", "p95 / 裸"],
        rows,
    )


class _LagSource:
    """Bench-only source: keys "benchlag:<n>" from events of topic "bench.search_lag", built from the
    event's payload (kept by refs_for, which sees the event)."""

    kind = "document"
    prefix = "benchlag"

    def __init__(self) -> None:
        self.payloads: dict[str, dict[str, Any]] = {}

    def refs_for(self, event: Any) -> list[str]:
        if event.topic != "bench.search_lag":
            return []
        key = f"benchlag:{event.payload['n']}"
        self.payloads[key] = event.payload
        return [key]

    def build(self, keys: list[str]) -> tuple[list[Any], list[str]]:
        from search.interface import IndexDoc

        docs = []
        for key in keys:
            p = self.payloads[key]
            docs.append(
                IndexDoc(
                    key=key,
                    kind="document",
                    title=f"关于{p['token']}防汛工作的通知",
                    body=f"基准测试变更 {p['n']}：{p['token']}。各地各部门做好防汛防台风工作。",
                    principals=frozenset({"bench:lag"}),
                    url=f"/bench/{p['n']}/",
                    date=datetime.fromisoformat(p["at"]),
                )
            )
        return docs, []

    def all_keys(self) -> Iterator[str]:
        return iter(())

    def count(self) -> int:
        return 0


def _token(n: int) -> str:
    """Four characters unique to change n."""
    common = search_data.COMMON
    out = ""
    for _ in range(4):
        n, r = divmod(n, len(common))
        out += common[r]
    return out


@pytest.mark.django_db(transaction=True)
def test_index_lag_under_fifty_changes_per_second(
    corpus: Corpus, built: Built, bench: Any, settings: Any, tmp_path: Path
) -> None:
    from django.db import connection, transaction

    from officeapp.outbox.drain import drain
    from officeapp.outbox.services import emit
    from officeapp.registries import outbox_consumers, search_indexers
    from search.engines.embedded import EmbeddedEngine
    from search.interface import SearchQuery
    from search.query import parse
    from tests.meetings.booking_threads import sqlite_on_file

    settings.SEARCH_INDEX_PATH = built.path  # the outbox consumer writes into the full index
    consumer = "search"
    assert outbox_consumers.get(consumer) is not None, "search.apps registers the outbox consumer 'search'"
    source = _LagSource()
    search_indexers.register(source.prefix, source)
    reader = EmbeddedEngine(built.path)  # a web process's engine object on the same file
    total = LAG_RATE * LAG_SECONDS
    committed: dict[int, float] = {}
    found: dict[int, float] = {}
    stop = threading.Event()
    failures: list[BaseException] = []
    drains: list[tuple[float, int]] = []  # (seconds, delivered)
    base = 1_000_000 + random.Random(3).randrange(10**8)

    def emitter() -> None:
        try:
            began = time.perf_counter()
            for i in range(total):
                wait = began + i / LAG_RATE - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                n = base + i
                with transaction.atomic():
                    emit(
                        "bench.search_lag",
                        object_type="bench.change",
                        object_id=n,
                        payload={"n": n, "token": _token(n), "at": datetime.now(UTC).isoformat()},
                    )
                committed[i] = time.perf_counter()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    def ticker() -> None:
        # As officeapp.worker's ticker: drain once a second (start to start).
        try:
            while not stop.is_set():
                began = time.perf_counter()
                result = drain(consumer)
                assert not result.failed, result.error
                drains.append((time.perf_counter() - began, result.delivered))
                stop.wait(max(0.0, 1.0 - (time.perf_counter() - began)))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    def searcher() -> None:
        # Oldest change not yet found first: the drain delivers in id order, so a later change is
        # rarely found before an earlier one (when it is, the earlier one's turn comes next).
        try:
            deadline = time.perf_counter() + LAG_SECONDS + 60
            i = 0
            while i < total and time.perf_counter() < deadline:
                if i not in committed:
                    time.sleep(0.005)
                    continue
                n = base + i
                results = reader.search(SearchQuery(parse(_token(n)), {"bench:lag": None}, facets=False))
                if any(h.key == f"benchlag:{n}" for h in results.hits):
                    found[i] = time.perf_counter()
                    i += 1
                else:
                    time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    try:
        with sqlite_on_file(tmp_path):
            drain(consumer)  # the cursor starts at the current end of the outbox
            threads = [threading.Thread(target=f) for f in (emitter, ticker, searcher)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            threads[0].join()
            emitted_in = time.perf_counter() - started
            threads[2].join()
            stop.set()
            threads[1].join()
    finally:
        search_indexers.unregister(source.prefix)
        reindexed = EmbeddedEngine(built.path)
        reindexed.delete(f"benchlag:{base + i}" for i in range(total))

    assert failures == [], failures[:3]
    lags = [(found[i] - committed[i]) * 1000 for i in range(total) if i in found]
    p50, p95, worst = bench.percentiles(lags)
    busy = [s for s, d in drains if d]
    bench.print_table(
        f"索引滞后：{total:,} 个变更，{LAG_RATE}/s × {LAG_SECONDS} s（实际 {emitted_in:.1f} s 写完），"
        f"每秒排空一次 outbox；{len(corpus.docs):,} 条的索引；{_load()}",
        ["", "p50", "p95", "最大", "找到"],
        [
            ["提交 → 可搜到（ms）", round(p50), round(p95), round(worst), f"{len(lags)}/{total}"],
            [
                f"每次排空（ms，{len(busy)} 次有事件）",
                round(statistics.median(busy) * 1000) if busy else "—",
                round(bench.percentiles([b * 1000 for b in busy])[1]) if busy else "—",
                round(max(busy) * 1000) if busy else "—",
                f"{sum(d for _, d in drains):,} 个事件",
            ],
        ],
    )
    assert len(lags) == total, f"{total - len(lags)} changes never found"
