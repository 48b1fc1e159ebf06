"""Deterministic synthetic demo data: contacts, outlets, addresses, lists and opt-outs.

Everything is computed in SQL from ``range(n)`` and DuckDB's ``hash()``, so 1 M contacts take
seconds and the same N always gives the same data. The data group is ``demo``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from optdesk.store.search import rebuild_search_tokens

DEMO_GROUP = "demo"
MAX_CONTACTS = 2_000_000

FIRST = [
    "Amélie", "Lucas", "Chloé", "Hugo", "Léa", "Jonas", "Anna", "Lukas", "Sofía", "Mateo",
    "Lucía", "Pablo", "Giulia", "Marco", "Francesca", "Luca", "Sanne", "Daan", "Emma", "Bram",
    "Inês", "João", "Beatriz", "Tiago", "Olivia", "James", "Charlotte", "Oliver", "Grace", "Noah",
    "Zoë", "Björn", "Ingrid", "Søren", "Maëlle", "Théo", "Núria", "Álvaro", "Chiara", "Matteo",
]
LAST = [
    "Dupont", "Martin", "Bernard", "Lefèvre", "Müller", "Schmidt", "Schneider", "Fischer",
    "García", "Fernández", "López", "Martínez", "Rossi", "Russo", "Ferrari", "Esposito",
    "de Vries", "Jansen", "van Dijk", "Bakker", "Silva", "Santos", "Ferreira", "Pereira",
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "O'Brien", "Kowalski", "Nowak",
    "Novák", "Andersen", "Nielsen", "Johansson", "Lindqvist", "Moreau", "Girard",
]
OUTLET_A = [
    "Daily", "Morning", "Evening", "Weekly", "Le Journal", "Die Zeitung", "El Diario",
    "Il Corriere", "Het Dagblad", "O Jornal", "Tech", "Business", "City", "Metro", "National",
    "Radio", "TV", "Global", "Financial", "Digital",
]
# the type of an outlet named after each word of OUTLET_A
OUTLET_TYPE = [
    "newspaper", "newspaper", "newspaper", "magazine", "newspaper", "newspaper", "newspaper",
    "newspaper", "newspaper", "newspaper", "online", "magazine", "newspaper", "newspaper",
    "agency", "radio", "tv", "agency", "magazine", "online",
]
# an outlet's second general address, by language (every outlet has newsdesk@)
DESK = {"fr": "redaction", "de": "redaktion", "es": "redaccion", "it": "redazione",
        "nl": "redactie", "pt": "redacao", "en": "planning"}
OUTLET_B = [
    "Herald", "Post", "Tribune", "Chronicle", "Observer", "Gazette", "Courier", "Monitor",
    "Review", "Times", "Signal", "Record", "Wire", "Journal", "Express", "Mirror", "Bulletin",
    "Dispatch", "Ledger", "Standard",
]
TITLES = ["Reporter", "Editor", "Senior Editor", "Correspondent", "Columnist", "Producer",
          "Freelance Journalist", "News Editor", "Features Editor", "Blogger"]
COUNTRIES = [("FR", "fr"), ("DE", "de"), ("ES", "es"), ("IT", "it"), ("NL", "nl"), ("PT", "pt"),
             ("GB", "en"), ("US", "en"), ("BE", "fr"), ("AT", "de")]
TOPICS = ["Tech", "Business", "Health", "Energy", "Travel", "Food", "Fashion", "Automotive",
          "Finance", "Science", "Sport", "Culture", "Politics", "Retail", "Gaming", "Climate"]
SOURCES = ["reply", "manual", "list_unsubscribe", "complaint"]


def _lit(values: list[str]) -> str:
    """A DuckDB list literal of constant strings (from this module, never from input)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _h(expr: str, salt: int, mod: int) -> str:
    return f"((hash({expr} * 7919 + {salt}) % {mod})::BIGINT)"


def seed_demo(
    con: duckdb.DuckDBPyConnection, n: int, now: dt.datetime, say: Callable[[str], None]
) -> dict:
    """Fill an empty store with ``n`` demo contacts. Caller holds the transaction."""
    if not 1 <= n <= MAX_CONTACTS:
        raise ValueError(f"--contacts must be between 1 and {MAX_CONTACTS:,}")
    n_outlets = max(20, n // 50)
    n_lists = max(16, n // 100)
    con.execute(
        "INSERT INTO data_groups VALUES (?, ?) ON CONFLICT DO NOTHING", [DEMO_GROUP, now]
    )
    con.execute(f"""
        INSERT INTO outlets (outlet_id, external_id, name, reach, type, country, language)
        SELECT i, i::VARCHAR, {_lit(OUTLET_A)}[1 + i % 20] || ' ' || {_lit(OUTLET_B)}[1 + (i // 20) % 20]
                  || CASE WHEN i >= 400 THEN ' ' || (i // 400)::VARCHAR ELSE '' END,
               10000 + {_h('i', 1, 2000000)}, {_lit(OUTLET_TYPE)}[1 + i % 20],
               {_lit([c for c, _ in COUNTRIES])}[1 + k], {_lit([g for _, g in COUNTRIES])}[1 + k]
        FROM (SELECT i, {_h('i', 13, len(COUNTRIES))} AS k FROM range(0, {n_outlets}) t(i))
    """)
    con.execute(f"""
        INSERT INTO contacts
        SELECT i, f, l, f || ' ' || l, {_h('i', 3, n_outlets)},
               {_lit(TITLES)}[1 + {_h('i', 4, len(TITLES))}],
               {_lit([c for c, _ in COUNTRIES])}[1 + k], {_lit([g for _, g in COUNTRIES])}[1 + k],
               (pow({_h('i', 5, 1000)} / 1000.0, 3) * 500000)::BIGINT + 100, ?, i::VARCHAR
        FROM (SELECT i, {_lit(FIRST)}[1 + {_h('i', 1, len(FIRST))}] AS f,
                     {_lit(LAST)}[1 + {_h('i', 2, len(LAST))}] AS l,
                     {_h('i', 6, len(COUNTRIES))} AS k
              FROM range(1, {n + 1}) t(i))
    """, [now])
    say(f"{n:,} contacts, {n_outlets:,} outlets")
    _addresses(con, n, now)
    _outlet_addresses(con, now)
    say("addresses")
    _lists(con, n, n_lists, now)
    say(f"{n_lists:,} lists")
    optouts = _optouts(con, n, now)
    say(f"{optouts:,} opt-outs")
    rebuild_search_tokens(con)
    say("search index")
    return {"contacts": n, "outlets": n_outlets, "lists": n_lists, "optouts": optouts}


def _addresses(con: duckdb.DuckDBPyConnection, n: int, now: dt.datetime) -> None:
    local = ("regexp_replace(strip_accents(lower(c.first_name || '.' || c.last_name)),"
             " '[^a-z.]', '', 'g')")
    domain = "regexp_replace(lower(o.name), '[^a-z0-9]', '', 'g') || '.example'"
    con.execute(f"""
        INSERT INTO addresses
        SELECT {local} || c.contact_id || '@' || {domain}, c.contact_id, 'system', '', true, ?
        FROM contacts c JOIN outlets o USING (outlet_id)
        UNION ALL
        SELECT {local} || c.contact_id || '@mail.example', c.contact_id, 'system', '', false, ?
        FROM contacts c JOIN outlets o USING (outlet_id) WHERE c.contact_id % 3 = 0
        UNION ALL
        SELECT 'c' || c.contact_id || '@private.example', c.contact_id, 'private', 'demo', false, ?
        FROM contacts c WHERE c.contact_id % 6 = 1
        ORDER BY 2
    """, [now, now, now])


def _outlet_addresses(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> None:
    """newsdesk@ for every outlet, and a desk in its language for every other one."""
    domain = "regexp_replace(lower(o.name), '[^a-z0-9]', '', 'g') || '.example'"
    desks = "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in DESK.items()) + "}"
    con.execute(f"""
        INSERT INTO outlet_addresses (email, outlet_id, added_at)
        SELECT DISTINCT ON (email) email, outlet_id, ? FROM (
            SELECT 'newsdesk@' || {domain} AS email, o.outlet_id FROM outlets o
            UNION ALL
            SELECT {desks}[o.language] || '@' || {domain}, o.outlet_id FROM outlets o
            WHERE o.outlet_id % 2 = 0)
        ORDER BY email
    """, [now])


def _lists(con: duckdb.DuckDBPyConnection, n: int, n_lists: int, now: dt.datetime) -> None:
    con.execute(f"""
        INSERT INTO media_lists
        SELECT i, 'demo', {_lit(TOPICS)}[1 + i % {len(TOPICS)}] || ' — '
               || {_lit([c for c, _ in COUNTRIES])}[1 + (i // {len(TOPICS)}) % {len(COUNTRIES)}]
               || CASE WHEN i >= {len(TOPICS) * len(COUNTRIES)}
                       THEN ' #' || (i // {len(TOPICS) * len(COUNTRIES)})::VARCHAR ELSE '' END,
               ?
        FROM range(1, {n_lists + 1}) t(i)
    """, [now])
    con.execute(f"""
        INSERT INTO list_members
        SELECT DISTINCT 1 + {_h('c.i * 5 + k.j', 9, n_lists)} AS list_id, c.i
        FROM range(1, {n + 1}) c(i), range(0, 5) k(j)
        ORDER BY list_id
    """)


def _optouts(con: duckdb.DuckDBPyConnection, n: int, now: dt.datetime) -> int:
    """About one contact in ten opted out, from every source, each with its event."""
    con.execute(f"""
        INSERT INTO events (occurred_at, kind, contact_id, data_group, source, actor, reason)
        SELECT ?::TIMESTAMP - INTERVAL 1 MINUTE * {_h('i', 11, 525600)},
               'opt_out', i, 'demo', s, CASE WHEN s = 'manual' THEN 'analyst@demo' ELSE 'daemon' END,
               CASE s WHEN 'manual' THEN 'asked by phone' WHEN 'reply' THEN 'replied: please remove me'
                      WHEN 'complaint' THEN 'spam complaint' ELSE 'one-click unsubscribe' END
        FROM (SELECT i, {_lit(SOURCES)}[1 + {_h('i', 12, 4)}] AS s FROM range(1, {n + 1}) t(i)
              WHERE {_h('i', 10, 10)} = 0)
        ORDER BY 1
    """, [now])
    con.execute("""
        INSERT INTO optouts
        SELECT contact_id, data_group, source, actor, reason, occurred_at, event_id
        FROM events WHERE kind = 'opt_out' AND data_group = 'demo'
    """)
    return con.execute("SELECT count(*) FROM optouts WHERE data_group = 'demo'").fetchall()[0][0]


class DemoData:
    """Mixin: ``init_demo``."""

    def init_demo(self, contacts: int = 2000, progress: Callable[[str], None] | None = None) -> dict:
        """Create the demo data group in an empty store (all or nothing)."""
        from optdesk.errors import OptdeskError
        from optdesk.store.base import utcnow

        with self.db.transaction() as con:
            if con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]:
                raise OptdeskError(f"{self.path} already holds contacts; demo data needs an empty store")
            return seed_demo(con, contacts, utcnow(), progress or (lambda m: None))

    def is_empty(self) -> bool:
        return not self.db.scalar("SELECT count(*) FROM contacts")
