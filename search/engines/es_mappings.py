"""The Elasticsearch index template of search, versioned in code.

Supported server: Elasticsearch 8.x (the client is pinned `elasticsearch>=8.15,<9` because the 9.x
client refuses 8.x servers). Bump MAPPING_VERSION whenever `template_body` changes in a way an existing
index cannot take (a field's type, an analyzer): new concrete indices are named
`<prefix>-search-v<MAPPING_VERSION>-<timestamp>`, and `manage.py search_reindex` builds one and moves the
alias to it without downtime. `check()` reports an index whose version is older than the code's.

Analysis. Each of `title`, `body` has two indexed forms:

- the field itself, analysed with the configured analyzer (settings.SEARCH_ES_ANALYZER, env
  SEARCH_ES_ANALYZER), used for ranking only;
- a `.uni` subfield, analysed by `officeapp_unigram` (the `standard` tokenizer, which cuts CJK text into
  single characters and keeps Latin words and numbers whole, then full-width → half-width and
  lower-case). Every term of a query must match as a `match_phrase` on a `.uni` subfield: consecutive
  characters, so a query finds every item containing it, whatever the analyzer — one-character terms
  included (the `cjk` analyzer emits only bigrams inside a CJK run, so 汛 alone never matches 防汛 there)
  and words inside longer words (a segmenting analyzer such as ik turns 防汛防台风 into tokens in which
  台风 may not appear).

Choosing the analyzer (it changes ranking, never what is found):

- `cjk` (default, built in): CJK bigrams, no plugin needed.
- `ik_max_word` — plugin `analysis-ik` (https://github.com/infinilabs/analysis-ik), installed with
  `bin/elasticsearch-plugin install https://get.infini.cloud/elasticsearch/analysis-ik/<es version>`
  on every node; set SEARCH_ES_ANALYZER=ik_max_word. Items are indexed with ik_max_word (finest
  segmentation) and queries analysed with `ik_smart`, the pairing the plugin recommends.
  SEARCH_ES_ANALYZER=ik_smart uses ik_smart on both sides.
- `smartcn` — plugin `analysis-smartcn` (shipped by Elastic): `bin/elasticsearch-plugin install
  analysis-smartcn` on every node; set SEARCH_ES_ANALYZER=smartcn.

The analyzer is written into the template; after changing it, run `manage.py search_reindex` so a new
index is built with it (the current one keeps its analyzer until then).

文号: `doc_number` keeps it as printed (and `doc_number.uni` makes it searchable as text, as the
embedded engine searches it with the title); `doc_number_norm` holds it normalised by
search.query.normalize_doc_number (〔〕 brackets, ASCII digits, no leading zeros) — the form the query
parser gives a recognised 文号 — so one term query ranks that document first however it was printed.

Shards: one primary shard. Terms aggregations are exact only when one shard holds every document
(with several shards each returns its own top values and the merged counts can be low), and the facet
counts must be exact up to COUNT_CAP. One shard of an office's documents is well within a shard's
comfortable size (tens of GB). `auto_expand_replicas` 0-1 keeps a one-node cluster green.
"""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 1

UNIGRAM_ANALYZER = "officeapp_unigram"

# Search-time analyzer for an index-time one, where a plugin recommends a different pairing.
_SEARCH_ANALYZER = {"ik_max_word": "ik_smart"}


def alias_name(prefix: str) -> str:
    """The alias every read and write goes through."""
    return f"{prefix}-search"


def next_alias_name(prefix: str) -> str:
    """Points at the index a rebuild is filling, so changes made meanwhile reach it too."""
    return f"{prefix}-search-next"


def template_name(prefix: str) -> str:
    return f"{prefix}-search-v{MAPPING_VERSION}"


def index_pattern(prefix: str) -> str:
    return f"{prefix}-search-v{MAPPING_VERSION}-*"


def all_indices_pattern(prefix: str) -> str:
    return f"{prefix}-search-v*"


def _text(analyzer: str) -> dict[str, Any]:
    field: dict[str, Any] = {
        "type": "text",
        "analyzer": analyzer,
        "fields": {"uni": {"type": "text", "analyzer": UNIGRAM_ANALYZER}},
    }
    if analyzer in _SEARCH_ANALYZER:
        field["search_analyzer"] = _SEARCH_ANALYZER[analyzer]
    return field


def _stored_only() -> dict[str, Any]:
    return {"type": "keyword", "index": False, "doc_values": False}


def template_body(prefix: str, analyzer: str) -> dict[str, Any]:
    """Keyword arguments of `indices.put_index_template` for this prefix and analyzer."""
    return {
        "name": template_name(prefix),
        "index_patterns": [index_pattern(prefix)],
        # Above the built-in templates' priorities (≤ 100) so ours wins for our names.
        "priority": 500,
        "version": MAPPING_VERSION,
        "meta": {"mapping_version": MAPPING_VERSION, "analyzer": analyzer, "managed_by": "officeapp"},
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": 1,
                    "auto_expand_replicas": "0-1",
                },
                "analysis": {
                    "analyzer": {
                        UNIGRAM_ANALYZER: {
                            "type": "custom",
                            "tokenizer": "standard",
                            "filter": ["cjk_width", "lowercase"],
                        }
                    },
                },
            },
            "mappings": {
                "dynamic": "strict",
                "_meta": {"mapping_version": MAPPING_VERSION, "analyzer": analyzer},
                "properties": {
                    "key": {"type": "keyword"},
                    "kind": {"type": "keyword"},
                    "title": _text(analyzer),
                    "body": _text(analyzer),
                    "doc_number": {
                        "type": "keyword",
                        "fields": {"uni": {"type": "text", "analyzer": UNIGRAM_ANALYZER}},
                    },
                    "doc_number_norm": {"type": "keyword"},
                    "principals": {"type": "keyword"},
                    "acl_seq": {"type": "long"},
                    "date": {"type": "date"},
                    "year": {"type": "integer"},
                    "agency_id": {"type": "integer"},
                    "agency_name": {"type": "keyword"},
                    "doc_type": {"type": "keyword"},
                    "doc_type_label": {"type": "keyword"},
                    "status": {"type": "keyword"},
                    "status_label": {"type": "keyword"},
                    "subtitle": _stored_only(),
                    "url": _stored_only(),
                },
            },
        },
    }
