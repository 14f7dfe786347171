"""Accent-insensitive substring search behind one small interface.

Searchable models keep a `search_text` column: their searchable words lower-cased with accents
removed (`normalize`). The query is normalized the same way, so "Garcia" finds "García".

- SQLite: an FTS5 table with the trigram tokenizer over `search_text` (external content, kept in
  sync by triggers created in the app's migration) answers substring matches from an index.
- PostgreSQL: a GIN `gin_trgm_ops` index on `search_text` answers the same `LIKE '%…%'`.

Every term must match (AND). Terms shorter than three characters cannot use a trigram index, so
they match word prefixes and only narrow the candidates the longer terms found.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import connection
from django.db.models import QuerySet

_WORD = re.compile(r"[\w@.+\-']+", re.UNICODE)
MAX_CANDIDATES = 2000


def normalize(*parts: Any) -> str:
    """Lower-case, accent-free text of the given parts, joined by spaces."""
    text = " ".join(str(p) for p in parts if p)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def terms_of(query: str) -> list[str]:
    return [t for t in _WORD.findall(normalize(query)) if t.strip(".-'")][:8]


def fts_table(model: type[Any]) -> str:
    return f"{model._meta.db_table}_fts"


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_filter(queryset: QuerySet[Any], query: str) -> QuerySet[Any]:
    """Narrow `queryset` to rows whose `search_text` contains every term of `query`."""
    terms = terms_of(query)
    if not terms:
        return queryset
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    model = queryset.model
    if long_terms and connection.vendor == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        table = fts_table(model)
        # Which query shape is fast depends on how many rows match, which SQLite's planner cannot
        # know for the FTS table, so ask it (bounded). Measured at 1,000,000 contacts:
        # - a rare match ("zuniga", at most MAX_CANDIDATES): its ids, looked up by primary key
        #   (~1 ms; walking the sort index and probing each row instead: 100 ms);
        # - a common one ("garcia", 27,000 matches): `id IN (SELECT rowid … MATCH)` builds the whole
        #   match list before walking the sort index (75-160 ms), while testing each row's text
        #   while walking (the same substring test the trigram index answers) finds a page in 1-12 ms.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH %s LIMIT %s", [match, MAX_CANDIDATES + 1])
            candidates = [row[0] for row in cursor.fetchall()]
        if len(candidates) <= MAX_CANDIDATES:
            queryset = queryset.filter(pk__in=candidates)
        else:
            for term in long_terms:
                queryset = queryset.filter(search_text__contains=term)
    else:
        for term in long_terms:
            queryset = queryset.filter(search_text__contains=term)
    for term in short_terms:
        # a word that starts with the term: at the start of the text or after a space
        queryset = queryset.extra(  # noqa: S610
            where=[
                f"({model._meta.db_table}.search_text LIKE %s ESCAPE '\\' OR {model._meta.db_table}.search_text LIKE %s ESCAPE '\\')"
            ],
            params=[_like_escape(term) + "%", "% " + _like_escape(term) + "%"],
        )
    return queryset


def fts_sql(model_label: str, db_table: str) -> tuple[list[str], list[str]]:
    """SQL to create (and drop) the FTS5 trigram index and its sync triggers for `db_table`."""
    t = f"{db_table}_fts"
    create = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {t} USING fts5(search_text, content='{db_table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {t}_ai AFTER INSERT ON {db_table} BEGIN "
        f"INSERT INTO {t}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_ad AFTER DELETE ON {db_table} BEGIN "
        f"INSERT INTO {t}({t}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {t}_au AFTER UPDATE OF search_text ON {db_table} BEGIN "
        f"INSERT INTO {t}({t}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {t}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {t}({t}) VALUES ('rebuild')",
    ]
    drop = [f"DROP TRIGGER IF EXISTS {t}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {t}"]
    return create, drop


def search_index_operations(db_table: str) -> tuple[Any, Any]:
    """Forward and backward RunPython callables creating the search index on either database."""

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            for sql in fts_sql("", db_table)[0]:
                schema_editor.execute(sql)
        elif schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {db_table}_search_trgm ON {db_table} USING gin (search_text gin_trgm_ops)"
            )

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            for sql in fts_sql("", db_table)[1]:
                schema_editor.execute(sql)
        elif schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {db_table}_search_trgm")

    return forward, backward
