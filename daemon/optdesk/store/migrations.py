"""Named, ordered schema migrations, recorded in the table ``schema_migrations``.

Append new migrations at the end with the next number; never edit one that has shipped.
Times are stored as naive UTC TIMESTAMPs. Evidence is JSON text.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from optdesk.errors import OptdeskError

CORE = """
CREATE TABLE data_groups (
    data_group VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE outlets (
    outlet_id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    reach BIGINT
);
CREATE TABLE contacts (
    contact_id BIGINT PRIMARY KEY,
    first_name VARCHAR,
    last_name VARCHAR,
    name VARCHAR NOT NULL,
    outlet_id BIGINT,
    title VARCHAR,
    country VARCHAR,
    language VARCHAR,
    reach BIGINT,
    updated_at TIMESTAMP
);
-- kind 'system': from the media database, data_group ''. kind 'private': added by one data group.
CREATE TABLE addresses (
    email VARCHAR NOT NULL,
    contact_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('system', 'private')),
    data_group VARCHAR NOT NULL DEFAULT '',
    is_primary BOOLEAN NOT NULL DEFAULT false,
    added_at TIMESTAMP,
    CHECK ((kind = 'system') = (data_group = ''))
);
CREATE INDEX addresses_email ON addresses (email);
-- search index for type-ahead: one row per word of a contact's name, kept sorted by token
CREATE TABLE name_tokens (
    token VARCHAR NOT NULL,
    contact_id BIGINT NOT NULL,
    name VARCHAR,
    outlet VARCHAR,
    reach BIGINT
);
CREATE TABLE media_lists (
    list_id BIGINT PRIMARY KEY,
    data_group VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    created_at TIMESTAMP
);
CREATE TABLE list_members (
    list_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL
);
CREATE TABLE optouts (
    contact_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    reason VARCHAR,
    opted_out_at TIMESTAMP NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (contact_id, data_group)
);
-- an address that asked to be removed but belongs to no contact
CREATE TABLE address_suppressions (
    email VARCHAR NOT NULL,
    data_group VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    reason VARCHAR,
    created_at TIMESTAMP NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (email, data_group)
);
CREATE SEQUENCE event_ids START 1;
CREATE TABLE events (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('event_ids'),
    occurred_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    contact_id BIGINT,
    data_group VARCHAR,
    email VARCHAR,
    source VARCHAR,
    actor VARCHAR NOT NULL,
    reason VARCHAR,
    evidence VARCHAR,
    message_hash VARCHAR,
    invitation_id BIGINT
);
CREATE TABLE deliverability (
    email VARCHAR PRIMARY KEY,
    undeliverable BOOLEAN NOT NULL DEFAULT false,
    bounce_score DOUBLE NOT NULL DEFAULT 0,
    score_at TIMESTAMP,
    soft_bounces INTEGER NOT NULL DEFAULT 0,
    hard_bounced_at TIMESTAMP,
    last_bounce_at TIMESTAMP,
    last_reason VARCHAR
);
CREATE SEQUENCE invitation_ids START 1;
CREATE TABLE invitations (
    invitation_id BIGINT PRIMARY KEY DEFAULT nextval('invitation_ids'),
    contact_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    nonce VARCHAR NOT NULL UNIQUE,
    sender_name VARCHAR,
    sender_email VARCHAR,
    subject VARCHAR,
    comments VARCHAR,
    language VARCHAR,
    status VARCHAR NOT NULL,
    actor VARCHAR,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    expires_at TIMESTAMP,
    answered_at TIMESTAMP,
    answer_message_hash VARCHAR,
    message_id VARCHAR,
    error VARCHAR
);
-- the processed-message ledger: one row per message the daemon has seen, keyed by content hash
CREATE TABLE messages (
    message_hash VARCHAR PRIMARY KEY,
    mailbox VARCHAR,
    folder VARCHAR,
    uid BIGINT,
    uidvalidity BIGINT,
    message_id VARCHAR,
    sender VARCHAR,
    subject VARCHAR,
    received_at TIMESTAMP,
    processed_at TIMESTAMP NOT NULL,
    kind VARCHAR,
    stage VARCHAR,
    rule VARCHAR,
    confidence DOUBLE,
    language VARCHAR,
    evidence VARCHAR,
    new_text VARCHAR,
    contact_id BIGINT,
    data_group VARCHAR,
    status VARCHAR NOT NULL,
    error VARCHAR,
    moved_to VARCHAR,
    review BOOLEAN NOT NULL DEFAULT false,
    review_reason VARCHAR,
    review_state VARCHAR,
    resolved_by VARCHAR,
    resolved_at TIMESTAMP,
    resolution VARCHAR
);
CREATE TABLE mailbox_state (
    mailbox VARCHAR NOT NULL,
    folder VARCHAR NOT NULL,
    uidvalidity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    last_poll_at TIMESTAMP,
    PRIMARY KEY (mailbox, folder)
);
CREATE TABLE job_runs (
    job VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    ok BOOLEAN,
    detail VARCHAR,
    error VARCHAR
);
"""

LEDGER_MOVES = """
ALTER TABLE messages ADD COLUMN moved_at TIMESTAMP;
ALTER TABLE deliverability ADD COLUMN away_until TIMESTAMP;
ALTER TABLE deliverability ADD COLUMN last_auto_reply_at TIMESTAMP;
"""

# Sending incidents: a bounce whose reason is on our side or on the road between (our IP on a
# block list, SPF/DKIM/DMARC, reverse DNS, rate, content, the network …). One row per notice and
# (reason, provider); the recipients are kept here, apart, and never counted against anyone.
SENDING_INCIDENTS = """
CREATE SEQUENCE incident_ids START 1;
CREATE TABLE sending_incidents (
    incident_id BIGINT PRIMARY KEY DEFAULT nextval('incident_ids'),
    occurred_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP,
    data_group VARCHAR,
    reason VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    remote VARCHAR,
    provider VARCHAR,
    status VARCHAR,
    reply_code VARCHAR,
    diagnostic VARCHAR,
    recipients INTEGER NOT NULL,
    addresses VARCHAR[],
    message_id VARCHAR,
    original_message_id VARCHAR,
    message_hash VARCHAR,
    rule VARCHAR
);
CREATE INDEX sending_incidents_at ON sending_incidents (occurred_at);
"""

# One definition of what a data group sees and must not mail, and closed vocabularies for the
# opt-out source and the event kind. A data group sees every system address and its own private
# ones (``visible_addresses(g)``); it must not mail (``suppressed(g)``, columns email, reason):
# the visible addresses of its opted-out contacts, its address suppressions, and undeliverable
# addresses it can see or that belong to no contact (another group's private address is never
# listed). Every query of the store uses these macros; none restates them. The source of an
# opt-out or suppression and the kind of an event must be a row of ``opt_out_sources`` /
# ``event_kinds`` (a later migration adds a value with one INSERT).
ONE_DEFINITION = """
CREATE TABLE opt_out_sources (source VARCHAR PRIMARY KEY);
INSERT INTO opt_out_sources VALUES ('reply'), ('manual'), ('list_unsubscribe'), ('complaint'),
    ('one_click');
CREATE TABLE event_kinds (kind VARCHAR PRIMARY KEY);
INSERT INTO event_kinds VALUES ('opt_out'), ('opt_in'), ('invitation_sent'),
    ('invitation_accepted'), ('invitation_declined'), ('invitation_expired'),
    ('invitation_refused'), ('bounce_hard'), ('bounce_soft'), ('auto_reply'),
    ('address_suppressed'), ('review_resolved'), ('list_member_removed');

CREATE TABLE optouts_checked (
    contact_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    source VARCHAR NOT NULL REFERENCES opt_out_sources (source),
    actor VARCHAR NOT NULL,
    reason VARCHAR,
    opted_out_at TIMESTAMP NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (contact_id, data_group)
);
INSERT INTO optouts_checked SELECT * FROM optouts;
DROP TABLE optouts;
ALTER TABLE optouts_checked RENAME TO optouts;

CREATE TABLE address_suppressions_checked (
    email VARCHAR NOT NULL,
    data_group VARCHAR NOT NULL,
    source VARCHAR NOT NULL REFERENCES opt_out_sources (source),
    reason VARCHAR,
    created_at TIMESTAMP NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (email, data_group)
);
INSERT INTO address_suppressions_checked SELECT * FROM address_suppressions;
DROP TABLE address_suppressions;
ALTER TABLE address_suppressions_checked RENAME TO address_suppressions;

CREATE TABLE events_checked (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('event_ids'),
    occurred_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL REFERENCES event_kinds (kind),
    contact_id BIGINT,
    data_group VARCHAR,
    email VARCHAR,
    source VARCHAR,
    actor VARCHAR NOT NULL,
    reason VARCHAR,
    evidence VARCHAR,
    message_hash VARCHAR,
    invitation_id BIGINT
);
INSERT INTO events_checked SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_checked RENAME TO events;

CREATE MACRO visible_addresses(g) AS TABLE
    SELECT * FROM addresses WHERE kind = 'system' OR data_group = g;

CREATE MACRO suppressed(g) AS TABLE
    SELECT email, min(reason) AS reason FROM (
        SELECT a.email, 'opted_out' AS reason
        FROM optouts o JOIN visible_addresses(g) a ON a.contact_id = o.contact_id
        WHERE o.data_group = g
        UNION ALL
        SELECT email, 'address_opt_out' FROM address_suppressions WHERE data_group = g
        UNION ALL
        SELECT d.email, 'undeliverable' FROM deliverability d
        WHERE d.undeliverable
          AND (EXISTS (SELECT 1 FROM visible_addresses(g) q WHERE q.email = d.email)
               OR NOT EXISTS (SELECT 1 FROM addresses p WHERE p.email = d.email))
    ) GROUP BY email;
"""

# One-click unsubscribe (RFC 8058, optdesk.serve): one row per token the first time it is POSTed,
# keyed by the SHA-256 of the token (the token itself is not kept). requested_at is the request,
# applied_at the commit; outcome 'applied' (this request opted the contact out, event_id is that
# opt_out event) or 'already' (the contact was opted out already; nothing changed).
ONE_CLICK = """
CREATE TABLE one_click_requests (
    token_hash VARCHAR PRIMARY KEY,
    contact_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    nonce BIGINT,
    email_fp VARCHAR,
    requested_at TIMESTAMP NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    outcome VARCHAR NOT NULL CHECK (outcome IN ('applied', 'already')),
    event_id BIGINT
);
CREATE INDEX one_click_applied_at ON one_click_requests (applied_at);
"""

# The analysts' search (issue 14): name and outlet words under their search keys
# (optdesk.store.search), filled by the import and the demo, or on first use in an older store.
SEARCH_TOKENS = """
CREATE TABLE search_tokens (
    token VARCHAR NOT NULL,
    contact_id BIGINT NOT NULL,
    reach BIGINT
);
"""

# Every address, lower-case, kept sorted so that the start of an address is a range scan
# (data_group '' for a system address, seen by every group); and a contact's addresses without
# a scan of all of them (the record, the emails on a page of search results or cards).
SEARCH_EMAILS = """
CREATE TABLE search_emails (
    email VARCHAR NOT NULL,
    contact_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    reach BIGINT
);
CREATE INDEX addresses_contact ON addresses (contact_id);
"""

# The analysts' corrections (optdesk.store.undo): each names the event it undoes.
CORRECTION_KINDS = """
INSERT INTO event_kinds VALUES ('opt_out_undone'), ('list_member_restored'), ('review_reopened');
"""

# Outlets as records of their own (type, country, language) with general addresses that belong
# to the outlet, not to a contact (``outlet_addresses``, seen by every data group, like system
# addresses), and the manual or reply opt-out of an outlet per data group (``outlet_optouts``).
# ``suppressed(g)`` adds the addresses of the group's opted-out outlets (reason
# 'outlet_opt_out'); the rest of its definition is 0004's. Events name the outlet they concern
# (``events.outlet_id``). Engagement (opens, clicks … imported from a sending tool's export, one
# row per event or per recipient and event with a count) per distribution of a data group.
OUTLETS = """
CREATE TABLE outlet_types (type VARCHAR PRIMARY KEY);
INSERT INTO outlet_types VALUES ('newspaper'), ('tv'), ('radio'), ('online'), ('agency'),
    ('magazine');
INSERT INTO event_kinds VALUES ('outlet_opt_out'), ('outlet_opt_in');

CREATE TABLE outlets_typed (
    outlet_id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    reach BIGINT,
    type VARCHAR REFERENCES outlet_types (type),
    country VARCHAR,
    language VARCHAR,
    updated_at TIMESTAMP
);
INSERT INTO outlets_typed (outlet_id, name, reach) SELECT outlet_id, name, reach FROM outlets;
DROP TABLE outlets;
ALTER TABLE outlets_typed RENAME TO outlets;

CREATE TABLE outlet_addresses (
    email VARCHAR PRIMARY KEY,
    outlet_id BIGINT NOT NULL,
    added_at TIMESTAMP
);

CREATE TABLE outlet_optouts (
    outlet_id BIGINT NOT NULL,
    data_group VARCHAR NOT NULL,
    source VARCHAR NOT NULL REFERENCES opt_out_sources (source),
    actor VARCHAR NOT NULL,
    reason VARCHAR,
    with_contacts BOOLEAN NOT NULL DEFAULT false,
    opted_out_at TIMESTAMP NOT NULL,
    event_id BIGINT,
    PRIMARY KEY (outlet_id, data_group)
);
ALTER TABLE events ADD COLUMN outlet_id BIGINT;

CREATE OR REPLACE MACRO suppressed(g) AS TABLE
    SELECT email, min(reason) AS reason FROM (
        SELECT a.email, 'opted_out' AS reason
        FROM optouts o JOIN visible_addresses(g) a ON a.contact_id = o.contact_id
        WHERE o.data_group = g
        UNION ALL
        SELECT email, 'address_opt_out' FROM address_suppressions WHERE data_group = g
        UNION ALL
        SELECT oa.email, 'outlet_opt_out'
        FROM outlet_optouts oo JOIN outlet_addresses oa ON oa.outlet_id = oo.outlet_id
        WHERE oo.data_group = g
        UNION ALL
        SELECT d.email, 'undeliverable' FROM deliverability d
        WHERE d.undeliverable
          AND (EXISTS (SELECT 1 FROM visible_addresses(g) q WHERE q.email = d.email)
               OR NOT EXISTS (SELECT 1 FROM addresses p WHERE p.email = d.email))
    ) GROUP BY email;

CREATE TABLE engagement_events (
    data_group VARCHAR NOT NULL,
    distribution VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    event VARCHAR NOT NULL CHECK (event IN ('delivered', 'open', 'click', 'bounce',
                                             'unsubscribe', 'complaint')),
    occurred_at TIMESTAMP,
    n INTEGER NOT NULL DEFAULT 1,
    url VARCHAR,
    user_agent VARCHAR,
    prefetch BOOLEAN NOT NULL DEFAULT false,
    imported_at TIMESTAMP NOT NULL
);
"""

# The team's own contact ids (optdesk.store.contact_ids): text, unique across the store (contacts
# and their system addresses are shared by every data group), next to the internal integer key
# every table joins on. Every existing contact's id is its integer key as text, so an integer-id
# store and its files keep working unchanged.
# (The table is rebuilt: DuckDB cannot index a column updated in the same transaction.)
EXTERNAL_IDS = """
CREATE TABLE contacts_keyed (
    contact_id BIGINT PRIMARY KEY,
    first_name VARCHAR,
    last_name VARCHAR,
    name VARCHAR NOT NULL,
    outlet_id BIGINT,
    title VARCHAR,
    country VARCHAR,
    language VARCHAR,
    reach BIGINT,
    updated_at TIMESTAMP,
    external_id VARCHAR NOT NULL UNIQUE
);
INSERT INTO contacts_keyed
SELECT contact_id, first_name, last_name, name, outlet_id, title, country, language, reach,
       updated_at, CAST(contact_id AS VARCHAR)
FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_keyed RENAME TO contacts;
"""


# Engagement read fast and applied (issue 15): ``engagement_totals`` one row per (data group,
# distribution, address) with its counts, kept by the import; ``engagers`` one row per contact
# (or outlet address) that engaged, resolved through ``visible_addresses`` and refreshed by the
# engagement, contact and outlet imports (optdesk.store.engagement_totals). An unsubscribe row of
# the team's sending tool is the journalist's own request: source ``sending_tool``.
ENGAGEMENT_TOTALS = """
INSERT INTO opt_out_sources VALUES ('sending_tool');
CREATE TABLE engagement_totals (
    data_group VARCHAR NOT NULL,
    distribution VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    opens BIGINT NOT NULL,
    proxy_opens BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    last_event TIMESTAMP,
    last_any TIMESTAMP
);
CREATE TABLE engagers (
    data_group VARCHAR NOT NULL,
    distribution VARCHAR NOT NULL,
    contact_id BIGINT,
    outlet_id BIGINT,
    email VARCHAR NOT NULL,
    opens BIGINT NOT NULL,
    proxy_opens BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    last_event TIMESTAMP,
    last_any TIMESTAMP,
    reach BIGINT,
    outlet VARCHAR
);
"""

# The old type-ahead index (0001), rebuilt by every import but read by nothing since the search
# of issue 14 (``search_tokens``, 0007) replaced it.
DROP_NAME_TOKENS = """
DROP TABLE IF EXISTS name_tokens;
"""

# Each outlet's name under the one folding rule of the search (optdesk.store.search.text_keys:
# every key after a space), for the outlet matches of 01 and the outlet filters of 02; filled by
# the imports and the demo, or on first use in an older store.
OUTLET_KEYS = """
CREATE TABLE outlet_keys (
    outlet_id BIGINT NOT NULL,
    keys VARCHAR NOT NULL
);
"""

# Outlets named by the team's own ids and invited back (issue 15): ``outlets.external_id`` is
# the ``outlet_id`` of ``optdesk import outlets`` and of a contact export's ``outlet_id`` column,
# text, unique, next to the internal integer key every table joins on (each existing outlet's id
# is its key as text, as 0010 did for contacts; optdesk.store.contact_ids.resolve). An
# invitation goes to a contact or to an outlet's own address: ``invitations.contact_id`` may be
# null, ``invitations.outlet_id`` names the outlet, exactly one of the two is set. Independent
# of any other migration after 0011 (it touches only outlets and invitations).
# (Both tables are rebuilt: DuckDB cannot alter a column of a table with an index.)
OUTLET_INVITATIONS = """
CREATE TABLE outlets_keyed (
    outlet_id BIGINT PRIMARY KEY,
    name VARCHAR NOT NULL,
    reach BIGINT,
    type VARCHAR REFERENCES outlet_types (type),
    country VARCHAR,
    language VARCHAR,
    updated_at TIMESTAMP,
    external_id VARCHAR NOT NULL UNIQUE
);
INSERT INTO outlets_keyed
SELECT outlet_id, name, reach, type, country, language, updated_at, CAST(outlet_id AS VARCHAR)
FROM outlets;
DROP TABLE outlets;
ALTER TABLE outlets_keyed RENAME TO outlets;

CREATE TABLE invitations_to (
    invitation_id BIGINT PRIMARY KEY DEFAULT nextval('invitation_ids'),
    contact_id BIGINT,
    data_group VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    nonce VARCHAR NOT NULL UNIQUE,
    sender_name VARCHAR,
    sender_email VARCHAR,
    subject VARCHAR,
    comments VARCHAR,
    language VARCHAR,
    status VARCHAR NOT NULL,
    actor VARCHAR,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    expires_at TIMESTAMP,
    answered_at TIMESTAMP,
    answer_message_hash VARCHAR,
    message_id VARCHAR,
    error VARCHAR,
    outlet_id BIGINT,
    CHECK ((contact_id IS NULL) <> (outlet_id IS NULL))
);
INSERT INTO invitations_to
SELECT invitation_id, contact_id, data_group, email, nonce, sender_name, sender_email, subject,
       comments, language, status, actor, created_at, sent_at, expires_at, answered_at,
       answer_message_hash, message_id, error, NULL
FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_to RENAME TO invitations;
"""

# (name, SQL). Order is the order of application.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_core", CORE),
    ("0002_ledger_moves", LEDGER_MOVES),
    ("0003_sending_incidents", SENDING_INCIDENTS),
    ("0004_one_definition", ONE_DEFINITION),
    ("0005_one_click", ONE_CLICK),
    ("0006_outlets", OUTLETS),
    ("0007_search_tokens", SEARCH_TOKENS),
    ("0008_search_emails", SEARCH_EMAILS),
    ("0009_correction_kinds", CORRECTION_KINDS),
    ("0010_external_ids", EXTERNAL_IDS),
    ("0011_engagement_totals", ENGAGEMENT_TOTALS),
    ("0012_drop_name_tokens", DROP_NAME_TOKENS),
    ("0013_outlet_invitations", OUTLET_INVITATIONS),
    ("0014_outlet_keys", OUTLET_KEYS),
]


def applied(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    return [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection, migrations=None) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; return their names."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied(con))
    unknown = done - {name for name, _ in migrations}
    if unknown:
        raise OptdeskError(
            f"the store has migrations this optdesk does not know: {sorted(unknown)}; "
            "upgrade optdesk"
        )
    new = []
    for name, sql in migrations:
        if name in done:
            continue
        con.begin()
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?)",
                [name, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        new.append(name)
    return new
