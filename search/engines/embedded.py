"""The embedded search engine: SQLite FTS5 in a file of its own (settings.SEARCH_INDEX_PATH), whatever
the project database is. No server; web processes read while the worker writes (WAL).

Schema (one SQLite file per generation, see "Files" below; PRAGMA user_version = SCHEMA_VERSION):
- fts: FTS5 virtual table, contentless (content=''), tokenize='unicode61 remove_diacritics 0', columns
    tu, tb, tw   title (+ 文号) as CJK characters + non-CJK words / CJK character pairs / rjieba words
    bu, bb, bw   body, the same three ways
    acl          the item's principals, each one token ("p" + its UTF-8 in hex: principal_token)
  The tokens are made in Python (search/text.py) and stored space-separated; unicode61 splits on the
  spaces only. A query of n >= 2 CJK characters is the phrase of its pairs in tb/bb: substring
  matching, so every document containing it is found (issue 9's measured failure of trigram and of
  segmented words). fts.rowid = meta.id.
- meta(id INTEGER PRIMARY KEY, key UNIQUE, kind, title, url, date REAL epoch, year, agency_id,
  agency_name, doc_number, doc_number_norm, doc_type, doc_type_label, status, status_label, acl_seq,
  subtitle, text_hash): one compact row per item, joined to fts by id for filters, facets and recency.
- body(id INTEGER PRIMARY KEY, body): the original text, for highlighting (kept out of meta so the
  rows a query scans stay small).
- acl(principal TEXT, acl_seq INTEGER, doc INTEGER), WITHOUT ROWID, PRIMARY KEY (principal, acl_seq, doc)
  (the table is its own index), and an index on (doc): who may see which item, for visible_keys, the
  floors, and the tokens to delete from fts.
- state(name PRIMARY KEY, value): "next_id", so ids are never reused.

The permission filter is inside the MATCH: `(<text>) AND {acl}: ("p…" OR "p…")` with the user's
principals, so FTS5 intersects the text's doclists with the principals' (it seeks through a long
doclist with its doclist index) and the walk visits the visible matches, not every match of the text
checked one by one against a list of permitted ids (`+rowid IN (SELECT doc FROM acl …)`, the earlier
design: measured in docs/benchmarks.md; a plain `rowid IN (…)` was worse still, one FTS5 lookup per
permitted row, seconds on 1M items). A floored principal (chat: visible only when acl_seq > floor) is
in the MATCH like the others; the rows at or below a floor (the messages from before one joined: few)
are kept only if the acl table shows another of the query's principals letting them through.

A search is, in one read transaction (a consistent snapshot while the worker writes): one walk of the
visible matches, reading each one's blended score (SCORE; the 文号's document first), date and facet
columns into Python, where the page, the total (exact up to COUNT_CAP) and the four facets (drill-down
too) are computed; then the page's rows with their bodies for highlighting. A principal set that sees
more than ONE_PASS_MAX matches falls back to SQL: the page query, then one GROUP BY pass for the facets
(plus one per facet whose own filter is set) or a LIMIT COUNT_CAP + 1 count.

Deleting from a contentless table needs the tokens that were indexed: they are recomputed from meta,
body and acl (deterministic), and a re-index whose text and principals are unchanged (same text_hash)
leaves fts alone.

Files: SEARCH_INDEX_PATH is a symlink to the current generation ("index.sqlite3.g-<time>-<pid>"), each
with its own -wal and -shm. rebuild() writes a new generation, then swaps the link with os.replace;
every connection compares os.stat(path).st_ino on each use and reopens, so readers see the new
generation at their next query. (Replacing the database file itself under the same name would let
new connections replay the old file's -wal onto the new file: corruption.)
"""

# SQL here is assembled from fixed fragments and "?" placeholders only; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from search.highlight import mark, snippet
from search.interface import (
    COUNT_CAP,
    KINDS,
    MAX_PAGE,
    MAX_QUERY_CHARS,
    FacetValue,
    Filters,
    Hit,
    IndexDoc,
    Principals,
    QueryError,
    Results,
    SearchQuery,
    SearchUnavailable,
    Suggestion,
)
from search.query import normalize_doc_number
from search.text import index_tokens, query_match, query_prefix

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    tu, tb, tw, bu, bb, bw, acl, content='', tokenize='unicode61 remove_diacritics 0'
);
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    date REAL NOT NULL,
    year INTEGER NOT NULL,
    agency_id INTEGER,
    agency_name TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    doc_number_norm TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    doc_type_label TEXT NOT NULL,
    status TEXT NOT NULL,
    status_label TEXT NOT NULL,
    acl_seq INTEGER NOT NULL,
    subtitle TEXT NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS body (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS acl (
    principal TEXT NOT NULL,
    acl_seq INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (principal, acl_seq, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acl_doc ON acl (doc);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# bm25 column weights, in the order tu, tb, tw, bu, bb, bw, acl: a match in the title counts four
# times one in the body; a segmented word (tw, bw) counts double the characters and pairs it is made
# of; the principals (acl) only select, they never score.
WEIGHTS = (4.0, 4.0, 8.0, 1.0, 1.0, 2.0, 0.0)
BM25 = "bm25(fts, " + ", ".join(str(w) for w in WEIGHTS) + ")"
# Relevance blended with recency. SQLite's bm25() is negative, better matches more negative. We
# multiply it by 1 + RECENCY_BOOST / (1 + age_days / RECENCY_HALF_LIFE_DAYS): today's item gets up to
# +50%, one 90 days old +25%, one three years old about +4%. Multiplying (not adding) keeps the blend
# independent of bm25's scale, which varies with the corpus and the query; a much better match still
# wins over a newer, weaker one. Rational, not exponential decay: SQLite may lack math functions.
RECENCY_BOOST = 0.5
RECENCY_HALF_LIFE_DAYS = 90.0
SCORE = (
    f"{BM25} * (1.0 + {RECENCY_BOOST} / (1.0 + max(0.0, ? - m.date) / {RECENCY_HALF_LIFE_DAYS * 86400.0}))"
)

# PRAGMA user_version of a generation: 2 = principals in fts's acl column. A file of another version
# is SearchUnavailable until `manage.py search_reindex` has built a new generation.
SCHEMA_VERSION = 2
BATCH = 1000  # docs per executemany round inside one index() transaction
# A search reads every visible match once into Python (page, total and facets from the same rows);
# a principal set that sees more matches than this falls back to one SQL pass each.
ONE_PASS_MAX = 100_000
FLOORED_BRANCHES = 64  # above this many floored principals, one json_each join instead of UNION ALL branches
FACETS = ("kind", "agency", "doc_type", "year")
_FILTER_COLUMNS = {
    "kind": ("m.kind", "kinds"),
    "agency": ("m.agency_id", "agency_ids"),
    "doc_type": ("m.doc_type", "doc_types"),
    "year": ("m.year", "years"),
    "status": ("m.status", "statuses"),
}
PAGE_OUT_OF_RANGE = "页码超出范围。"
UNAVAILABLE = "搜索索引暂时无法使用，请稍后再试。"

T = TypeVar("T")


def _unavailable(fn: Callable[..., T]) -> Callable[..., T]:
    """A file that cannot be opened or queried is SearchUnavailable (a message, not a 500)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise SearchUnavailable(UNAVAILABLE) from exc

    return wrapper


def _text_hash(doc: IndexDoc) -> str:
    """What fts holds of a doc: its text and its principals (the acl column)."""
    h = hashlib.blake2b(digest_size=16)
    for part in (doc.title, doc.doc_number, doc.body, *sorted(doc.principals)):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _fts_columns(title: str, doc_number: str, body: str, principals: Iterable[str]) -> tuple[str, ...]:
    # The 文号 is searchable as part of the title.
    return (
        *index_tokens(f"{title}\n{doc_number}" if doc_number else title),
        *index_tokens(body),
        " ".join(sorted(principal_token(p) for p in principals)),
    )


def principal_token(principal: str) -> str:
    """A principal as one unicode61 token of the acl column: "p" and its UTF-8 in hex, so that any
    principal string ("doc-office:3", "conv:88") is letters and digits only, and no two collide."""
    return "p" + principal.encode("utf-8").hex()


def _visible_sql(expr: str, principals: Principals) -> tuple[str, list[object]]:
    """The WHERE for the visible matches of expr: the permission filter inside the MATCH, as
    `(<text>) AND {acl}: (p… OR p…)`, so FTS5 intersects the text's doclists with the principals'
    (seeking with its doclist indexes) instead of walking every match of the text.

    A floored principal (chat: visible only above acl_seq > floor) is in the MATCH too; a row whose
    acl_seq is at or below the floor of one of them (few: the messages before one joined) is kept
    only if some principal of the query lets it through on its own, checked on the acl table."""
    tokens = " OR ".join(f'"{principal_token(p)}"' for p in principals)
    where = "fts MATCH ?"
    params: list[object] = [f"({expr}) AND {{acl}}: ({tokens})"]
    floored = [(p, int(floor)) for p, floor in principals.items() if floor is not None]
    if not floored:
        return where, params
    free = [p for p, floor in principals.items() if floor is None]
    below: list[str] = []
    allowed: list[str] = []
    if free:
        allowed.append(f"a.principal IN ({','.join('?' * len(free))})")
    if len(floored) <= FLOORED_BRANCHES:
        below_params: list[object] = []
        allowed_params: list[object] = list(free)
        for p, floor in floored:
            below.append("SELECT doc FROM acl WHERE principal = ? AND acl_seq <= ?")
            below_params.extend((p, floor))
            allowed.append("(a.principal = ? AND a.acl_seq > ?)")
            allowed_params.extend((p, floor))
    else:  # SQLite allows at most 500 terms in a compound SELECT; a long list goes in one join
        below.append(
            "SELECT a.doc FROM json_each(?) j CROSS JOIN acl a"
            " ON a.principal = json_extract(j.value, '$[0]') AND a.acl_seq <= json_extract(j.value, '$[1]')"
        )
        below_params = [json.dumps(floored)]
        allowed.append(
            "EXISTS (SELECT 1 FROM json_each(?) j WHERE json_extract(j.value, '$[0]') = a.principal"
            " AND a.acl_seq > json_extract(j.value, '$[1]'))"
        )
        allowed_params = [*free, json.dumps(floored)]
    where += (
        f" AND (+fts.rowid NOT IN ({' UNION ALL '.join(below)})"
        f" OR EXISTS (SELECT 1 FROM acl a WHERE a.doc = fts.rowid AND ({' OR '.join(allowed)})))"
    )
    return where, [*params, *below_params, *allowed_params]


def _acl_subquery(principals: Principals) -> tuple[str, list[object]]:
    free = [p for p, floor in principals.items() if floor is None]
    floored = [(p, int(floor)) for p, floor in principals.items() if floor is not None]
    parts: list[str] = []
    params: list[object] = []
    if free:
        parts.append(f"SELECT doc FROM acl WHERE principal IN ({','.join('?' * len(free))})")
        params.extend(free)
    if len(floored) <= FLOORED_BRANCHES:
        for p, floor in floored:
            parts.append("SELECT doc FROM acl WHERE principal = ? AND acl_seq > ?")
            params.extend((p, floor))
    else:  # SQLite allows at most 500 terms in a compound SELECT; a long list goes in one join
        parts.append(
            "SELECT a.doc FROM json_each(?) j CROSS JOIN acl a"
            " ON a.principal = json_extract(j.value, '$[0]') AND a.acl_seq > json_extract(j.value, '$[1]')"
        )
        params.append(json.dumps(floored))
    return " UNION ALL ".join(parts), params


def _filter_sql(filters: Filters, skip: str | None = None) -> tuple[str, list[object]]:
    sql: list[str] = []
    params: list[object] = []
    for name, (column, attr) in _FILTER_COLUMNS.items():
        values = getattr(filters, attr)
        if values and name != skip:
            sql.append(f" AND {column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    return "".join(sql), params


def _python_filters(filters: Filters) -> list[tuple[str, int, frozenset[Any]]]:
    """The filters that are set, as (name, index in a _visible_rows row, allowed values)."""
    return [
        (name, index, frozenset(values))
        for name, index, attr in (
            ("kind", 4, "kinds"),
            ("agency", 5, "agency_ids"),
            ("doc_type", 6, "doc_types"),
            ("year", 7, "years"),
            ("status", 8, "statuses"),
        )
        if (values := getattr(filters, attr))
    ]


def _epoch(date: datetime) -> float:
    if date.tzinfo is None:
        raise ValueError("IndexDoc.date must be aware")
    return date.timestamp()


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._create_lock = threading.Lock()

    # --- files and connections ---------------------------------------------------------------

    def _open(self, file: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False, timeout=15)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=268435456")
        return conn

    def _new_generation(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gen = self.path.with_name(f"{self.path.name}.g-{time.time_ns()}-{os.getpid()}")
        conn = self._open(gen)
        try:
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("INSERT OR IGNORE INTO state VALUES ('next_id', 1)")
        finally:
            conn.close()
        return gen

    @staticmethod
    def _remove_generation(gen: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{gen}{suffix}")

    def _ensure_file(self) -> os.stat_result:
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            pass
        with self._create_lock:
            if not os.path.lexists(self.path):
                gen = self._new_generation()
                try:
                    os.symlink(gen.name, self.path)
                except FileExistsError:  # another process made it first: use theirs
                    self._remove_generation(gen)
        return os.stat(self.path)

    def _conn(self) -> sqlite3.Connection:
        st = self._ensure_file()
        ident = (st.st_dev, st.st_ino)
        cached: tuple[sqlite3.Connection, tuple[int, int]] | None = getattr(self._local, "conn", None)
        if cached is not None:
            if cached[1] == ident:
                return cached[0]
            cached[0].close()  # the index was rebuilt: the link points to a new generation
        conn = self._open(self.path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            conn.close()
            # An index written by an older version of this engine: `manage.py search_reindex` builds
            # a new generation in the current schema (rebuild never opens the old one).
            raise sqlite3.DatabaseError(f"search index schema {version}, expected {SCHEMA_VERSION}: reindex")
        self._local.conn = (conn, ident)
        return conn

    # --- writing -------------------------------------------------------------------------------

    @staticmethod
    def _next_ids(conn: sqlite3.Connection, n: int) -> int:
        first = conn.execute("SELECT value FROM state WHERE name = 'next_id'").fetchone()[0]
        conn.execute("UPDATE state SET value = ? WHERE name = 'next_id'", (first + n,))
        return int(first)

    @staticmethod
    def _unindex(conn: sqlite3.Connection, ids: list[int]) -> None:
        """Take these ids' tokens out of fts (recomputed from the stored text)."""
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT m.id, m.title, m.doc_number, b.body FROM meta m JOIN body b ON b.id = m.id"
                f" WHERE m.id IN ({marks})",
                chunk,
            ).fetchall()
            principals: dict[int, list[str]] = {}
            for doc, principal in conn.execute(
                f"SELECT doc, principal FROM acl WHERE doc IN ({marks})", chunk
            ):
                principals.setdefault(doc, []).append(principal)
            conn.executemany(
                "INSERT INTO fts (fts, rowid, tu, tb, tw, bu, bb, bw, acl)"
                " VALUES ('delete', ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, *_fts_columns(title, number, body, principals.get(i, ())))
                    for i, title, number, body in rows
                ],
            )

    def _write_batch(self, conn: sqlite3.Connection, docs: list[IndexDoc]) -> None:
        by_key = {d.key: d for d in docs}  # the last version of a key in the batch wins
        keys = list(by_key)
        existing: dict[str, tuple[int, str]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for i, key, text_hash in conn.execute(
                f"SELECT id, key, text_hash FROM meta WHERE key IN ({','.join('?' * len(chunk))})", chunk
            ):
                existing[key] = (i, text_hash)
        new_keys = [k for k in keys if k not in existing]
        next_id = self._next_ids(conn, len(new_keys)) if new_keys else 0
        ids = {k: existing[k][0] for k in existing}
        ids.update({k: next_id + n for n, k in enumerate(new_keys)})
        hashes = {k: _text_hash(d) for k, d in by_key.items()}
        changed = [k for k in keys if k not in existing or existing[k][1] != hashes[k]]

        self._unindex(conn, [existing[k][0] for k in changed if k in existing])
        old_ids = [(existing[k][0],) for k in existing]
        conn.executemany("DELETE FROM acl WHERE doc = ?", old_ids)
        conn.executemany(
            "INSERT INTO fts (rowid, tu, tb, tw, bu, bb, bw, acl) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ids[k],
                    *_fts_columns(
                        by_key[k].title, by_key[k].doc_number, by_key[k].body, by_key[k].principals
                    ),
                )
                for k in changed
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO meta (id, key, kind, title, url, date, year, agency_id, agency_name,"
            " doc_number, doc_number_norm, doc_type, doc_type_label, status, status_label, acl_seq, subtitle,"
            " text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ids[k],
                    k,
                    d.kind,
                    d.title,
                    d.url,
                    _epoch(d.date),
                    d.year,
                    d.agency_id,
                    d.agency_name,
                    d.doc_number,
                    normalize_doc_number(d.doc_number) if d.doc_number else "",
                    d.doc_type,
                    d.doc_type_label,
                    d.status,
                    d.status_label,
                    d.acl_seq,
                    d.subtitle,
                    hashes[k],
                )
                for k, d in by_key.items()
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO body (id, body) VALUES (?, ?)",
            [(ids[k], by_key[k].body) for k in changed],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO acl (principal, doc, acl_seq) VALUES (?, ?, ?)",
            [(p, ids[k], d.acl_seq) for k, d in by_key.items() for p in d.principals],
        )

    def _write(self, conn: sqlite3.Connection, docs: Iterable[IndexDoc], progress: object = None) -> int:
        n = 0
        batch: list[IndexDoc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= BATCH:
                self._write_batch(conn, batch)
                n += len(batch)
                if progress is not None:
                    progress.update(len(batch))  # type: ignore[attr-defined]
                batch = []
        if batch:
            self._write_batch(conn, batch)
            n += len(batch)
            if progress is not None:
                progress.update(len(batch))  # type: ignore[attr-defined]
        return n

    @_unavailable
    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Upsert by key, all in one transaction: an exception writes nothing (the outbox retries)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            n = self._write(conn, docs)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return n

    @_unavailable
    def delete(self, keys: Iterable[str]) -> int:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return 0
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            ids: list[int] = []
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                ids.extend(
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM meta WHERE key IN ({','.join('?' * len(chunk))})", chunk
                    )
                )
            self._unindex(conn, ids)
            rows = [(i,) for i in ids]
            conn.executemany("DELETE FROM acl WHERE doc = ?", rows)
            conn.executemany("DELETE FROM body WHERE id = ?", rows)
            conn.executemany("DELETE FROM meta WHERE id = ?", rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(ids)

    @_unavailable
    def clear(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM acl")
            conn.execute("DELETE FROM body")
            conn.execute("DELETE FROM meta")
            conn.execute("INSERT INTO fts (fts) VALUES ('delete-all')")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @_unavailable
    def rebuild(self, docs: Iterator[IndexDoc], *, total: int | None = None, progress: object = None) -> int:
        """A new generation next to the current one, then one os.replace of the link: readers
        answer from the old generation until their next query after the swap."""
        gen = self._new_generation()
        try:
            conn = self._open(gen)
            try:
                # The new file is private until the swap and deleted on any failure: no journal, no
                # syncs and a large cache while it is built (each page is written once), WAL after.
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("PRAGMA synchronous=OFF")
                conn.execute("PRAGMA cache_size=-524288")
                conn.execute("BEGIN IMMEDIATE")
                n = self._write(conn, docs, progress)
                conn.execute("COMMIT")
                conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")  # one segment: faster queries
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()
            with open(gen, "rb") as f:
                os.fsync(f.fileno())
            old = os.readlink(self.path) if os.path.islink(self.path) else None
            link = self.path.with_name(f"{self.path.name}.new-{os.getpid()}")
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(gen.name, link)
            os.replace(link, self.path)
        except BaseException:
            self._remove_generation(gen)
            raise
        if old is not None and old != gen.name:
            # Open connections keep the unlinked file until they notice the new inode and reopen.
            self._remove_generation(self.path.with_name(old))
        self._remove_abandoned_generations(keep=gen.name)
        return n

    def _remove_abandoned_generations(self, *, keep: str) -> None:
        """Generations left by a rebuild that crashed: not linked, untouched for an hour (a rebuild
        running now writes its file all the time)."""
        cutoff = time.time() - 3600
        for file in self.path.parent.glob(f"{self.path.name}.g-*"):
            if file.name.startswith(keep) or file.name.endswith(("-wal", "-shm")):
                continue
            with contextlib.suppress(FileNotFoundError):
                if file.stat().st_mtime < cutoff:
                    self._remove_generation(file)

    # --- reading -------------------------------------------------------------------------------

    @_unavailable
    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM meta").fetchone()[0])

    @_unavailable
    def check(self) -> dict[str, object]:
        n = self.count()
        return {"engine": self.name, "documents": n, "path": str(self.path)}

    @_unavailable
    def visible_keys(self, principals: Principals, *, kind: str | None = None) -> set[str]:
        if not principals:
            return set()
        acl, params = _acl_subquery(principals)
        sql = f"SELECT key FROM meta WHERE id IN ({acl})"
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        return {r[0] for r in self._conn().execute(sql, params)}

    def matching_keys_unfiltered(self, expr_terms: tuple[str, ...]) -> set[str]:
        """Every key whose text contains all these terms, with NO permission filter: only for the
        recall test and the benchmark's brute-force comparison, never for users."""
        expr = query_match(expr_terms, (), ())
        if expr is None:
            return set()
        sql = "SELECT m.key FROM fts CROSS JOIN meta m ON m.id = fts.rowid WHERE fts MATCH ?"
        return {r[0] for r in self._conn().execute(sql, (expr,))}

    @_unavailable
    def suggest(self, prefix: str, principals: Principals, *, limit: int = 8) -> list[Suggestion]:
        prefix = (prefix or "").strip()
        if not principals or not prefix or len(prefix) > MAX_QUERY_CHARS:
            return []
        expr = query_prefix(prefix)
        if expr is None:
            return []
        where, params = _visible_sql(expr, principals)
        rows = self._conn().execute(
            "SELECT m.title, m.url, m.kind FROM fts CROSS JOIN meta m ON m.id = fts.rowid"
            f" WHERE {where} ORDER BY m.date DESC, m.id DESC LIMIT ?",
            [*params, limit],
        )
        return [Suggestion(title=t, url=u, kind=k) for t, u, k in rows]

    @staticmethod
    def _grouped(conn: sqlite3.Connection, where: str, params: list[object]) -> list[tuple[Any, ...]]:
        return conn.execute(
            "SELECT m.kind, m.agency_id, m.doc_type, m.year, max(m.agency_name), max(m.doc_type_label), count(*)"
            f" FROM fts CROSS JOIN meta m ON m.id = fts.rowid WHERE {where}"
            " GROUP BY m.kind, m.agency_id, m.doc_type, m.year",
            params,
        ).fetchall()

    def _counts(
        self, conn: sqlite3.Connection, where: str, params: list[object]
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """(number of matches, rows grouped by the four facets), exact. One pass over all visible
        matches: a facet value's count must be exact up to COUNT_CAP even when the total is far
        beyond, so a LIMIT COUNT_CAP + 1 pass (the count without facets) would only add a scan."""
        rows = self._grouped(conn, where, params)
        return sum(r[6] for r in rows), rows

    @staticmethod
    def _facet_values(rows: list[tuple[Any, ...]], facet: str) -> list[FacetValue]:
        counts: dict[str, list[Any]] = {}
        for kind, agency, doc_type, year, agency_name, doc_type_label, n in rows:
            if facet == "kind":
                value, label = kind, KINDS.get(kind, kind)
            elif facet == "agency":
                if agency is None:
                    continue
                value, label = str(agency), agency_name or str(agency)
            elif facet == "doc_type":
                if not doc_type:
                    continue
                value, label = doc_type, doc_type_label or doc_type
            else:
                value, label = str(year), str(year)
            entry = counts.setdefault(value, [label, 0])
            entry[1] += n
        values = [
            FacetValue(value=v, label=label, count=min(n, COUNT_CAP), capped=n > COUNT_CAP)
            for v, (label, n) in counts.items()
        ]
        values.sort(key=lambda f: (-f.count, -int(f.capped), f.label, f.value))
        return values

    @_unavailable
    def search(self, query: SearchQuery) -> Results:
        if not 1 <= query.page <= MAX_PAGE:
            raise QueryError(PAGE_OUT_OF_RANGE)
        parsed = query.parsed
        expr = query_match(parsed.terms, parsed.phrases, parsed.excluded)
        if expr is None or not query.principals:
            return Results(
                hits=[],
                total=0,
                total_capped=False,
                facets={f: [] for f in FACETS} if query.facets else {},
                page=query.page,
                per_page=query.per_page,
            )
        conn = self._conn()
        conn.execute("BEGIN")  # one snapshot: hits, total and facets agree while the worker writes
        try:
            return self._search(conn, query, expr)
        finally:
            conn.execute("COMMIT")

    def _search(self, conn: sqlite3.Connection, query: SearchQuery, expr: str) -> Results:
        base, base_params = _visible_sql(expr, query.principals)
        rows = self._visible_rows(conn, query, base, base_params)
        if rows is None:  # more visible matches than one pass should hold in memory
            return self._search_sql(conn, query, base, base_params)
        return self._results_from_rows(conn, query, rows)

    def _visible_rows(
        self, conn: sqlite3.Connection, query: SearchQuery, base: str, base_params: list[object]
    ) -> list[tuple[Any, ...]] | None:
        """The one walk of the match: every visible match's (id, score, exact, date, kind, agency_id,
        doc_type, year, status, agency_name, doc_type_label), or None beyond ONE_PASS_MAX rows.
        With facets the filters are not in the WHERE (a facet counts the rows its own filter drops:
        drill-down); the score is computed only for rows that pass them all (bm25 is most of a row's
        cost), None for the others. Without facets the filters narrow the walk itself."""
        filters_sql, filters_params = _filter_sql(query.filters)
        if query.facets and filters_sql:
            score, score_params = f"CASE WHEN 1{filters_sql} THEN {SCORE} END", [*filters_params, time.time()]
            where, params = base, base_params
        else:
            score, score_params = SCORE, [time.time()]
            where, params = base + filters_sql, base_params + filters_params
        columns = (
            "m.date, m.kind, m.agency_id, m.doc_type, m.year, m.status, m.agency_name, m.doc_type_label"
            if query.facets
            else "m.date"
        )
        rows = conn.execute(
            f"SELECT fts.rowid, {score}, m.doc_number_norm = ?, {columns}"
            f" FROM fts CROSS JOIN meta m ON m.id = fts.rowid WHERE {where} LIMIT {ONE_PASS_MAX + 1}",
            [*score_params, query.parsed.doc_number or "\0", *params],
        ).fetchall()
        return None if len(rows) > ONE_PASS_MAX else rows

    def _results_from_rows(
        self, conn: sqlite3.Connection, query: SearchQuery, rows: list[tuple[Any, ...]]
    ) -> Results:
        """Page, total and facets from the visible rows, as the SQL of _search_sql computes them."""
        facets: dict[str, list[FacetValue]] = {}
        if query.facets and not _python_filters(query.filters):
            # No filter: every row counts in every facet. Counted at C speed (itemgetter, Counter,
            # set): a Python loop per row was most of a search of a common word (4 µs a row).
            counts = Counter(map(itemgetter(4, 5, 6, 7), rows))
            labels: dict[tuple[Any, ...], list[Any]] = {}
            for *key, name, label in set(map(itemgetter(4, 5, 6, 7, 9, 10), rows)):
                entry = labels.setdefault(tuple(key), [name, label])
                entry[0], entry[1] = max(entry[0], name), max(entry[1], label)
            grouped = [(*key, *labels[key], n) for key, n in counts.items()]
            for facet in FACETS:
                facets[facet] = self._facet_values(grouped, facet)
        elif query.facets:
            tests = _python_filters(query.filters)
            matching: list[tuple[Any, ...]] = []
            # facet -> (kind, agency_id, doc_type, year) -> [max agency_name, max doc_type_label, count]
            groups: dict[str, dict[tuple[Any, ...], list[Any]]] = {f: {} for f in FACETS}
            for r in rows:
                failed = [name for name, index, values in tests if r[index] not in values]
                if not failed:
                    matching.append(r)
                    counted: Iterable[str] = FACETS
                elif len(failed) == 1 and failed[0] in groups:
                    counted = failed  # drill-down: only the facet whose own filter drops the row
                else:
                    continue
                key = (r[4], r[5], r[6], r[7])
                for facet in counted:
                    entry = groups[facet].get(key)
                    if entry is None:
                        groups[facet][key] = [r[9], r[10], 1]
                    else:
                        entry[0] = max(entry[0], r[9])
                        entry[1] = max(entry[1], r[10])
                        entry[2] += 1
            for facet in FACETS:
                facets[facet] = self._facet_values(
                    [(*key, name, label, n) for key, (name, label, n) in groups[facet].items()], facet
                )
            rows = matching
        n = len(rows)
        if query.sort == "date":
            key: Callable[[tuple[Any, ...]], tuple[Any, ...]] = lambda r: (-r[3], -r[0])  # noqa: E731
        else:
            key = lambda r: (-r[2], r[1], -r[0])  # noqa: E731
        end = query.page * query.per_page
        page_rows = heapq.nsmallest(end, rows, key=key)[end - query.per_page :]
        hits = self._hits(conn, [r[:3] for r in page_rows], query)
        return Results(
            hits=hits,
            total=min(n, COUNT_CAP),
            total_capped=n > COUNT_CAP,
            facets=facets,
            page=query.page,
            per_page=query.per_page,
        )

    def _search_sql(
        self, conn: sqlite3.Connection, query: SearchQuery, base: str, base_params: list[object]
    ) -> Results:
        """For a principal set that sees very many matches: the page, then the facets (or the
        capped count) each in SQL, so no pass holds all visible matches in memory."""
        parsed = query.parsed
        filters_sql, filters_params = _filter_sql(query.filters)
        where, params = base + filters_sql, base_params + filters_params

        # The page: ids and scores only (the sorter holds no text), then the rows of those ids.
        now = time.time()
        if query.sort == "date":
            order, order_params = "m.date DESC, m.id DESC", []
        else:
            order, order_params = "exact DESC, score ASC, m.id DESC", []
        page_rows = conn.execute(
            f"SELECT fts.rowid, {SCORE} AS score, m.doc_number_norm = ? AS exact"
            f" FROM fts CROSS JOIN meta m ON m.id = fts.rowid WHERE {where}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [
                now,
                parsed.doc_number or "\0",
                *params,
                *order_params,
                query.per_page,
                (query.page - 1) * query.per_page,
            ],
        ).fetchall()
        hits = self._hits(conn, page_rows, query)

        facets: dict[str, list[FacetValue]] = {}
        if query.facets:
            n, rows = self._counts(conn, where, params)
            for facet in FACETS:
                _, attr = _FILTER_COLUMNS[facet]
                if getattr(query.filters, attr):
                    # Drill-down: a facet counts with the other filters applied but not its own, so
                    # choosing 2025 still shows how many there are in 2024.
                    own_sql, own_params = _filter_sql(query.filters, skip=facet)
                    _, own_rows = self._counts(conn, base + own_sql, base_params + own_params)
                    facets[facet] = self._facet_values(own_rows, facet)
                else:
                    facets[facet] = self._facet_values(rows, facet)
        else:
            # Without filters the count needs no meta row: fts and the permitted ids suffice.
            source = "fts CROSS JOIN meta m ON m.id = fts.rowid" if filters_sql else "fts"
            n = conn.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT {COUNT_CAP + 1})", params
            ).fetchone()[0]
        return Results(
            hits=hits,
            total=min(n, COUNT_CAP),
            total_capped=n > COUNT_CAP,
            facets=facets,
            page=query.page,
            per_page=query.per_page,
        )

    @staticmethod
    def _hits(conn: sqlite3.Connection, page_rows: list[tuple[Any, ...]], query: SearchQuery) -> list[Hit]:
        if not page_rows:
            return []
        ids = [r[0] for r in page_rows]
        rows = {
            r[0]: r
            for r in conn.execute(
                "SELECT m.id, m.key, m.kind, m.title, m.url, m.date, m.agency_name, m.doc_number,"
                " m.doc_type_label, m.status_label, m.subtitle, b.body"
                f" FROM meta m JOIN body b ON b.id = m.id WHERE m.id IN ({','.join('?' * len(ids))})",
                ids,
            )
        }
        hits: list[Hit] = []
        for i, score, _exact in page_rows:
            r = rows.get(i)
            if r is None:
                continue
            (
                _,
                key,
                kind,
                title,
                url,
                date,
                agency_name,
                doc_number,
                doc_type_label,
                status_label,
                subtitle,
                body,
            ) = r
            hits.append(
                Hit(
                    key=key,
                    kind=kind,
                    title_html=mark(title, query.parsed),
                    snippet_html=snippet(body, query.parsed),
                    url=url,
                    date=datetime.fromtimestamp(date, tz=UTC),
                    agency_name=agency_name,
                    doc_number=doc_number,
                    doc_type_label=doc_type_label,
                    status_label=status_label,
                    subtitle=subtitle,
                    score=-float(score),
                )
            )
        return hits
