"""Finding a contact: by name and outlet words together, by email address, by contact id.

The index ``search_tokens`` holds one row per (search key, contact), kept sorted by key so that a
prefix is a range scan that zone maps narrow to a few row groups. The keys of a word come from
``search_keys``: the one folding rule of the search, built on ``optdesk.classify.words.fold``
(case, accents, ß ø æ ł …) plus what an analyst types for a name: German umlauts spelt out
(Müller → mueller as well as muller) and apostrophes and hyphens dropped (O'Brien → obrien, and
brien). Query words are folded by the same function, so both sides agree by construction.
"""

from __future__ import annotations

import dataclasses
import re

import duckdb
import polars as pl
import pyarrow as pa

from optdesk.classify.words import fold

_TOP = "\U0010ffff"
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
_JOINERS = re.compile(r"['\-.]")
_SPLIT = re.compile(r"[\s,;/()]+")
_ID = re.compile(r"#?(\d{1,18})")
MAX_PAGE = 200

# the words of a contact's name and of its outlet's name, as written (one row per word)
_WORDS_SQL = """
    SELECT DISTINCT c.contact_id, c.reach, w.word
    FROM contacts c LEFT JOIN outlets o ON o.outlet_id = c.outlet_id,
    LATERAL (SELECT unnest(string_split(regexp_replace(
        lower(coalesce(c.name, '') || ' ' || coalesce(o.name, '')), '[\\s,;/()]+', ' ', 'g'),
        ' ')) AS word) w
    WHERE w.word <> ''
"""


def search_keys(word: str) -> set[str]:
    """Every key under which a written word is found (its folded forms and parts)."""
    keys = set()
    for form in {fold(word), fold(word.translate(_UMLAUTS))}:
        keys.add(_JOINERS.sub("", form))
        keys.update(p for p in _JOINERS.split(form) if p)
    keys.discard("")
    return keys


def query_words(text: str) -> list[str]:
    """What the analyst typed, as search keys: folded words, apostrophes dropped."""
    return [k for k in (_JOINERS.sub("", fold(w)) for w in _SPLIT.split(text)) if k]


def rebuild_search_tokens(con: duckdb.DuckDBPyConnection, only_staged: bool = False) -> None:
    """Refresh the search index: all of it, or the contacts of the registered ``stage``."""
    scope = " AND c.contact_id IN (SELECT DISTINCT contact_id FROM stage)" if only_staged else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE search_words AS {_WORDS_SQL}{scope}")
    distinct = [r[0] for r in con.execute("SELECT DISTINCT word FROM search_words").fetchall()]
    pairs = [(w, k) for w in distinct for k in sorted(search_keys(w))]
    keymap = pa.table({"word": [p[0] for p in pairs], "token": [p[1] for p in pairs]})
    con.register("search_keymap", keymap)
    try:
        if only_staged:
            con.execute("DELETE FROM search_tokens WHERE contact_id IN"
                        " (SELECT DISTINCT contact_id FROM stage)")
        else:
            con.execute("DELETE FROM search_tokens")
        con.execute("""
            INSERT INTO search_tokens
            SELECT DISTINCT k.token, s.contact_id, s.reach
            FROM search_words s JOIN search_keymap k USING (word)
            ORDER BY 1
        """)
    finally:
        con.unregister("search_keymap")
        con.execute("DROP TABLE search_words")


@dataclasses.dataclass(frozen=True)
class Found:
    """One page of a search: ``rows`` (as ``find_contacts``), ``total`` matches, the page start."""

    rows: pl.DataFrame
    total: int
    offset: int
    by: str  # "name", "email" or "id": how the text was read


class SearchQueries:
    """Mixin: ``search_contacts``. Needs ``self.db`` (a Database)."""

    _search_ready = False

    def search_contacts(self, text: str, data_group: str | None = None, *, limit: int = 20,
                        offset: int = 0) -> Found:
        """Contacts matching what was typed, biggest reach first, one page of ``limit``.

        A number (``123`` or ``#123``) is a contact id; text with ``@`` an email address (its
        start); anything else words, each of which must start a word of the contact's name or
        of its outlet ("matteo esposito daily trib").
        """
        limit = max(1, min(int(limit), MAX_PAGE))
        offset = max(0, int(offset))
        text = (text or "").strip()
        self._ensure_search_index()
        group = data_group or ""
        if _ID.fullmatch(text):
            hits, params, by = "SELECT contact_id, reach FROM contacts WHERE contact_id = ?", [
                int(_ID.fullmatch(text).group(1))], "id"
        elif "@" in text:
            email = text.lower()
            hits = ("SELECT a.contact_id, any_value(c.reach) AS reach FROM addresses a"
                    " JOIN contacts c USING (contact_id)"
                    " WHERE a.email >= ? AND a.email < ? AND (a.kind = 'system' OR a.data_group = ?)"
                    " GROUP BY a.contact_id")
            params, by = [email, email + _TOP, group], "email"
        else:
            words = sorted(set(query_words(text)), key=len, reverse=True)
            if not words:
                return Found(_empty(), 0, 0, "name")
            # the longest word drives the scan; every other word must start some key too
            hits = ("SELECT contact_id, any_value(reach) AS reach FROM search_tokens"
                    " WHERE token >= ? AND token < ?"
                    + "".join(" AND contact_id IN (SELECT contact_id FROM search_tokens"
                              " WHERE token >= ? AND token < ?)" for _ in words[1:])
                    + " GROUP BY contact_id")
            params, by = [x for w in words for x in (w, w + _TOP)], "name"
        page = self.db.rows(
            f"WITH hits AS ({hits}) SELECT contact_id, count(*) OVER () FROM hits"
            " ORDER BY reach DESC NULLS LAST, contact_id LIMIT ? OFFSET ?",
            [*params, limit, offset])
        if page:
            total = int(page[0][1])
        elif offset:
            total = int(self.db.scalar(f"WITH hits AS ({hits}) SELECT count(*) FROM hits", params))
        else:
            total = 0
        return Found(self._search_rows([int(r[0]) for r in page], group), total, offset, by)

    def _search_rows(self, ids: list[int], group: str) -> pl.DataFrame:
        """The shown columns of these contacts, in this order."""
        if not ids:
            return _empty()
        frame = self.db.frame(_ROWS_SQL, [ids, group, group, ids])
        order = {cid: i for i, cid in enumerate(ids)}
        return frame.sort(pl.col("contact_id").replace_strict(order, return_dtype=pl.Int64))

    def primary_emails(self, contact_ids, data_group: str) -> dict[int, str]:
        """Each contact's first address as the data group sees it (primary, system first)."""
        ids = sorted({int(i) for i in contact_ids})
        if not ids:
            return {}
        rows = self.db.rows(
            "SELECT contact_id, arg_min(email, (NOT is_primary, kind <> 'system', email))"
            " FROM addresses WHERE contact_id IN (SELECT unnest(?::BIGINT[]))"
            " AND (kind = 'system' OR data_group = ?) GROUP BY contact_id", [ids, data_group])
        return {int(r[0]): r[1] for r in rows}

    def _ensure_search_index(self) -> None:
        """Build the index once for a store that has contacts but no index yet (an older store)."""
        if self._search_ready:
            return
        with self.db.transaction() as con:
            empty = not con.execute("SELECT 1 FROM search_tokens LIMIT 1").fetchall()
            if empty and con.execute("SELECT 1 FROM contacts LIMIT 1").fetchall():
                rebuild_search_tokens(con)
        self._search_ready = True


_ROWS_SQL = """
    WITH ids AS (SELECT unnest(?::BIGINT[]) AS contact_id),
    mail AS (
        SELECT contact_id, arg_min(email, (NOT is_primary, kind <> 'system', email)) AS email
        FROM addresses WHERE contact_id IN (SELECT contact_id FROM ids)
          AND (kind = 'system' OR data_group = ?) GROUP BY contact_id
    )
    SELECT c.contact_id, c.name, ot.name AS outlet, c.reach, c.title, c.country, c.language,
           (o.contact_id IS NOT NULL) AS opted_out, o.source AS optout_source, m.email
    FROM contacts c
    LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id
    LEFT JOIN optouts o ON o.contact_id = c.contact_id AND o.data_group = ?
    LEFT JOIN mail m ON m.contact_id = c.contact_id
    WHERE c.contact_id IN (SELECT unnest(?::BIGINT[]))
"""


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "contact_id": pl.Int64, "name": pl.String, "outlet": pl.String, "reach": pl.Int64,
        "title": pl.String, "country": pl.String, "language": pl.String, "opted_out": pl.Boolean,
        "optout_source": pl.String, "email": pl.String,
    })
