"""Finding a contact: by name and outlet words together, by email address, by the team's id.

The index ``search_tokens`` holds one row per (search key, contact), kept sorted by key so that a
prefix is a range scan that zone maps narrow to a few row groups. The keys of a word come from
``search_keys``: the one folding rule of the search, built on ``optdesk.classify.words.fold``
(case, accents, ß ø æ ł …) plus what an analyst types for a name: German umlauts spelt out
(Müller → mueller as well as muller) and apostrophes and hyphens dropped (O'Brien → obrien, and
brien). Query words are folded by the same function, so both sides agree by construction.

It is the one word-folding rule of everything an analyst searches: contacts (01, and the free
text of 02 over the same index), outlets (``outlet_keys``: each outlet's name under
``text_keys``, read by the type-ahead of 01, the outlet box of 02, ``find_outlets`` and
``opted_out_outlets``), media lists (04, ``matches``) and the words marked in a reply (05).
"""

from __future__ import annotations

import dataclasses
import functools
import re

import duckdb
import polars as pl

from optdesk.store.base import PRIMARY_EMAIL


def fold(word: str) -> str:
    """``optdesk.classify.words.fold``, imported on first use (the package ``optdesk.classify``
    is heavy to import and a store opened by a read-only command never searches)."""
    return _words_fold()(word)


@functools.cache
def _words_fold():
    from optdesk.classify.words import fold as words_fold

    return words_fold

TOP_KEY = "\U0010ffff"  # above every key: [word, word + TOP_KEY) is a prefix range
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
_JOINERS = re.compile(r"['\-.]")
_SPLIT = re.compile(r"[\s,;/()]+")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_ID = re.compile(r"#?(\d{1,18})")
_ONE_WORD = re.compile(r"#?(\S+)")
MAX_PAGE = 200
EXACT_UP_TO = 2_000  # matching index rows counted exactly; more: an estimate, shown as "about"

# the words of a contact's name and of its outlet's name, as written (one row per word)
_WORDS_SQL = """
    SELECT DISTINCT c.contact_id, c.reach, w.word
    FROM contacts c LEFT JOIN outlets o ON o.outlet_id = c.outlet_id,
    LATERAL (SELECT unnest(string_split(regexp_replace(
        lower(coalesce(c.name, '') || ' ' || coalesce(o.name, '')), '[\\s,;/()]+', ' ', 'g'),
        ' ')) AS word) w
    WHERE w.word <> ''
"""


@functools.lru_cache(maxsize=65536)
def word_forms(word: str) -> frozenset[str]:
    """The whole-word keys of a written word: folded, umlauts also spelt out, joiners dropped
    (Müller → muller, mueller; O'Brien → obrien)."""
    forms = {_JOINERS.sub("", f) for f in {fold(word), fold(word.translate(_UMLAUTS))}}
    forms.discard("")
    return frozenset(forms)


@functools.lru_cache(maxsize=65536)
def search_keys(word: str) -> frozenset[str]:
    """Every key under which a written word is found: its whole-word keys, its parts, and
    both without the marks around them ("annie" for ``"Annie"``, "img" for ``<img``)."""
    keys = set(word_forms(word))
    for form in {fold(word), fold(word.translate(_UMLAUTS))}:
        keys.update(p for p in _JOINERS.split(form) if p)
    keys |= {_EDGES.sub("", k) for k in keys}
    keys.discard("")
    return frozenset(keys)


def query_words(text: str) -> list[str]:
    """What the analyst typed, as search keys: folded words, apostrophes dropped."""
    return [k for k in (_JOINERS.sub("", fold(w)) for w in _SPLIT.split(text or "")) if k]


def text_keys(text: str | None) -> str:
    """The keys of every word of a text (a name, an outlet's, a list's), each after a space:
    what a stored folded column holds, so that a typed word starts a key where
    ``' ' + word`` is in it (``matches``, ``keys_condition``)."""
    keys = {k for w in _SPLIT.split(text or "") if w for k in search_keys(w)}
    return "".join(f" {k}" for k in sorted(keys))


def matches(text: str | None, typed: str) -> bool:
    """Every word typed starts a word of ``text`` (the rule of the contact search), in Python."""
    keys = text_keys(text)
    return all(f" {w}" in keys for w in query_words(typed))


def keys_condition(column: str, typed: str) -> tuple[str, list[str]]:
    """SQL (and its parameters) true when every word typed starts a key in ``column`` (a column
    filled by ``text_keys``); ``("true", [])`` when nothing was typed."""
    words = query_words(typed)
    if not words:
        return "true", []
    return " AND ".join(f"contains({column}, ?)" for _ in words), [f" {w}" for w in words]


def rebuild_outlet_keys(con: duckdb.DuckDBPyConnection, renamed=()) -> None:
    """Fill ``outlet_keys`` (each outlet's name under ``text_keys``) for the outlets it lacks and
    those ``renamed`` (ids); outlets are never deleted, and a contact import only adds them."""
    import pyarrow as pa  # only when the index is built (the daemon's start stays light)

    rows = con.execute(
        "SELECT outlet_id, name FROM outlets WHERE outlet_id IN (SELECT unnest(?::BIGINT[]))"
        " OR outlet_id NOT IN (SELECT outlet_id FROM outlet_keys)",
        [sorted({int(i) for i in renamed})]).fetchall()
    if not rows:
        return
    table = pa.table({"outlet_id": pa.array([r[0] for r in rows], pa.int64()),
                      "keys": pa.array([text_keys(r[1]) for r in rows], pa.string())})
    con.register("outlet_keys_new", table)
    try:
        con.execute("DELETE FROM outlet_keys WHERE outlet_id IN"
                    " (SELECT outlet_id FROM outlet_keys_new)")
        con.execute("INSERT INTO outlet_keys SELECT outlet_id, keys FROM outlet_keys_new")
    finally:
        con.unregister("outlet_keys_new")


def rebuild_search_tokens(con: duckdb.DuckDBPyConnection, only_staged: bool = False) -> None:
    """Refresh the search index: all of it, or the contacts of the registered ``stage``."""
    scope = " AND c.contact_id IN (SELECT DISTINCT contact_id FROM stage)" if only_staged else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE search_words AS {_WORDS_SQL}{scope}")
    import pyarrow as pa  # only when the index is built (the daemon's start stays light)

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
    _rebuild_search_emails(con, only_staged)
    rebuild_outlet_keys(con)


def _rebuild_search_emails(con: duckdb.DuckDBPyConnection, only_staged: bool) -> None:
    select = ("SELECT lower(a.email), a.contact_id, a.data_group, c.reach FROM addresses a"
              " JOIN contacts c USING (contact_id)")
    if only_staged:
        con.execute("DELETE FROM search_emails WHERE contact_id IN"
                    " (SELECT DISTINCT contact_id FROM stage)"
                    " OR email IN (SELECT DISTINCT lower(email) FROM stage)")
        con.execute(f"INSERT INTO search_emails {select} WHERE a.contact_id IN"
                    " (SELECT DISTINCT contact_id FROM stage)"
                    " OR lower(a.email) IN (SELECT DISTINCT lower(email) FROM stage) ORDER BY 1")
    else:
        con.execute("DELETE FROM search_emails")
        con.execute(f"INSERT INTO search_emails {select} ORDER BY 1")


@dataclasses.dataclass(frozen=True)
class Found:
    """One page of a search: ``rows`` (as ``find_contacts``), ``total`` matches, the page start."""

    rows: pl.DataFrame
    total: int
    offset: int
    by: str  # "name", "email" or "id": how the text was read
    exact: bool = True  # False: ``total`` is an estimate (many matches)


class SearchQueries:
    """Mixin: ``search_contacts``. Needs ``self.db`` (a Database)."""

    _search_ready = False

    def search_contacts(self, text: str, data_group: str | None = None, *, limit: int = 20,
                        offset: int = 0) -> Found:
        """Contacts matching what was typed, biggest reach first, one page of ``limit``.

        One word that is a contact's own id (the team's: ``c-1234``, ``003Aa00000XyZ12``,
        ``17``, also written ``#17``; ``contact_ids.resolve``) finds that contact; another
        number finds nobody; text with ``@`` an email address (its start); anything else words,
        each of which must start a word of the contact's name or of its outlet ("matteo
        esposito daily trib").
        """
        limit = max(1, min(int(limit), MAX_PAGE))
        offset = max(0, int(offset))
        text = (text or "").strip()
        self._ensure_search_index()
        group = data_group or ""
        key = self._id_key(text) if "@" not in text else None
        if key is not None or _ID.fullmatch(text):
            rows = "SELECT contact_id, reach FROM contacts WHERE contact_id = ?"
            params, by = [key if key is not None else -1], "id"
        elif "@" in text:
            email = text.lower()
            rows = ("SELECT contact_id, reach FROM search_emails WHERE email >= ? AND email < ?"
                    " AND (data_group = '' OR data_group = ?)")
            params, by = [email, email + TOP_KEY, group], "email"
        else:
            words = sorted(set(query_words(text)), key=len, reverse=True)
            if not words:
                return Found(_empty(), 0, 0, "name", True)
            # the longest word drives the scan; every other word must start some key too
            rows = ("SELECT contact_id, reach FROM search_tokens WHERE token >= ? AND token < ?"
                    + "".join(" AND contact_id IN (SELECT contact_id FROM search_tokens"
                              " WHERE token >= ? AND token < ?)" for _ in words[1:]))
            params, by = [x for w in words for x in (w, w + TOP_KEY)], "name"
        ids, total, exact = self._search_page(rows, params, limit, offset)
        return Found(self._search_rows(ids, group), total, offset, by, exact)

    def _id_key(self, text: str) -> int | None:
        """The key of the contact whose own id is this one word (with or without ``#``)."""
        word = _ONE_WORD.fullmatch(text)
        if word is None:
            return None
        from optdesk.store.contact_ids import resolve

        wanted = list(dict.fromkeys([text, word.group(1)]))
        with self.db.connection() as con:
            found = dict(resolve(con, pl.Series(wanted, dtype=pl.String)).iter_rows())
        return next((int(found[w]) for w in wanted if found.get(w) is not None), None)

    def _search_page(self, rows: str, params: list, limit: int,
                     offset: int) -> tuple[list[int], int, bool]:
        """(one page of distinct contacts, biggest reach first; how many match; exactly?).

        One query reads the matching index rows once: their number, an estimate of the distinct
        contacts (DuckDB's HyperLogLog, within a few per cent) and the first rows by reach. A
        contact can hold several keys of one prefix (Müller: muller, mueller), so rows are
        deduplicated here; when every matching row came back the count is exact.
        """
        want = offset + limit
        cap = max(EXACT_UP_TO, want * 3 + 16)
        n_rows, about, top = self.db.rows(
            f"WITH r AS MATERIALIZED ({rows})"
            " SELECT count(*), approx_count_distinct(contact_id),"
            " (SELECT list(contact_id) FROM (SELECT contact_id FROM r"
            "  ORDER BY reach DESC NULLS LAST, contact_id LIMIT ?)) FROM r",
            [*params, cap])[0]
        ids = list(dict.fromkeys(int(i) for i in top or []))
        if n_rows <= cap:
            return ids[offset:want], len(ids), True
        if len(ids) < want:
            ids = [int(r[0]) for r in self.db.rows(
                f"SELECT contact_id FROM ({rows}) GROUP BY contact_id"
                " ORDER BY max(reach) DESC NULLS LAST, contact_id LIMIT ?", [*params, want])]
        return ids[offset:want], int(about), False

    def _search_rows(self, ids: list[int], group: str) -> pl.DataFrame:
        """The shown columns of these contacts, in this order. Small keyed reads (the contacts
        by primary key, their addresses by the contact index), no scan of a whole table."""
        if not ids:
            return _empty()
        marks = ", ".join("?" for _ in ids)
        with self.db.connection() as con:
            people = con.execute(
                "SELECT contact_id, name, outlet_id, reach, title, country, language, external_id"
                " FROM contacts"
                f" WHERE contact_id IN ({marks})", ids).fetchall()
            outlet_ids = sorted({r[2] for r in people if r[2] is not None})
            outlets = dict(con.execute(
                "SELECT outlet_id, name FROM outlets WHERE outlet_id IN"
                f" ({', '.join('?' for _ in outlet_ids)})", outlet_ids).fetchall()) if outlet_ids else {}
            sources = dict(con.execute(
                f"SELECT contact_id, source FROM optouts WHERE data_group = ? AND contact_id IN ({marks})",
                [group, *ids]).fetchall())
        emails = self.primary_emails(ids, group)
        by_id = {r[0]: r for r in people}
        rows = [{"contact_id": cid, "external_id": r[7], "name": r[1], "outlet": outlets.get(r[2]), "reach": r[3],
                 "title": r[4], "country": r[5], "language": r[6], "opted_out": cid in sources,
                 "optout_source": sources.get(cid), "email": emails.get(cid)}
                for cid in ids if (r := by_id.get(cid)) is not None]
        return pl.DataFrame(rows, schema=_empty().schema)

    def primary_emails(self, contact_ids, data_group: str) -> dict[int, str]:
        """Each contact's first address as the data group sees it (primary, system first)."""
        ids = sorted({int(i) for i in contact_ids})
        if not ids:
            return {}
        rows = self.db.rows(
            f"SELECT contact_id, {PRIMARY_EMAIL}"
            f" FROM visible_addresses(?) WHERE contact_id IN ({', '.join('?' for _ in ids)})"
            " GROUP BY contact_id", [data_group, *ids])
        return {int(r[0]): r[1] for r in rows}

    def _ensure_search_index(self) -> None:
        """Build the indexes once for a store that has contacts (or outlets) but no index yet
        (an older store)."""
        if self._search_ready:
            return
        with self.db.transaction() as con:
            empty = not con.execute("SELECT 1 FROM search_emails LIMIT 1").fetchall()
            if empty and con.execute("SELECT 1 FROM contacts LIMIT 1").fetchall():
                rebuild_search_tokens(con)
            elif con.execute("SELECT 1 FROM outlets WHERE outlet_id NOT IN"
                             " (SELECT outlet_id FROM outlet_keys) LIMIT 1").fetchall():
                rebuild_outlet_keys(con)
        self._search_ready = True


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "contact_id": pl.Int64, "external_id": pl.String, "name": pl.String, "outlet": pl.String, "reach": pl.Int64,
        "title": pl.String, "country": pl.String, "language": pl.String, "opted_out": pl.Boolean,
        "optout_source": pl.String, "email": pl.String,
    })
