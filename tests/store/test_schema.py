"""Schema and migrations: named, ordered, recorded, applied once."""

import duckdb
import pytest

from optdesk.errors import OptdeskError
from optdesk.store import Store
from optdesk.store.migrations import MIGRATIONS, migrate

TABLES = {
    "data_groups", "outlets", "contacts", "addresses", "search_tokens", "outlet_keys", "media_lists",
    "list_members", "optouts", "address_suppressions", "events", "deliverability",
    "invitations", "messages", "mailbox_state", "job_runs", "schema_migrations",
}


def test_fresh_store_has_every_table_and_records_migrations(store):
    store.release()
    con = duckdb.connect(str(store.path))
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert TABLES <= tables
    names = [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
    con.close()
    assert names == [name for name, _ in MIGRATIONS]


def test_migrations_are_ordered_and_uniquely_named():
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names)
    assert len(set(names)) == len(names)


def test_reopening_applies_nothing(store):
    store.release()
    con = duckdb.connect(str(store.path))
    assert migrate(con) == []
    con.close()


def test_new_migration_is_applied_once_and_recorded(tmp_path):
    path = tmp_path / "m.duckdb"
    Store(path).release()
    extra = [*MIGRATIONS, ("9999_test_column", "ALTER TABLE contacts ADD COLUMN nickname VARCHAR")]
    con = duckdb.connect(str(path))
    assert migrate(con, extra) == ["9999_test_column"]
    assert migrate(con, extra) == []
    cols = [r[0] for r in con.execute("DESCRIBE contacts").fetchall()]
    con.close()
    assert "nickname" in cols


def test_failed_migration_is_rolled_back(tmp_path):
    path = tmp_path / "m.duckdb"
    Store(path).release()
    bad = [*MIGRATIONS, ("9999_bad", "CREATE TABLE half (x INT); SELECT * FROM no_such_table")]
    con = duckdb.connect(str(path))
    with pytest.raises(duckdb.Error):
        migrate(con, bad)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    recorded = [r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()]
    con.close()
    assert "half" not in tables
    assert "9999_bad" not in recorded


def test_store_from_a_newer_optdesk_is_refused(tmp_path):
    path = tmp_path / "m.duckdb"
    Store(path).release()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_migrations VALUES ('9999_future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(OptdeskError, match="9999_future"):
        Store(path)


def test_0013_keeps_outlets_and_invitations_of_a_store_at_0011(tmp_path):
    """0013_outlet_invitations (with 0012 and 0014) on a store at 0011: every outlet gets its
    key as the team's id, every invitation keeps its contact."""
    path = tmp_path / "at11.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, [m for m in MIGRATIONS if m[0] < "0012"])
    con.execute("INSERT INTO outlets (outlet_id, name) VALUES (4, 'Four'), (8, 'Eight')")
    con.execute("INSERT INTO invitations (contact_id, data_group, email, nonce, status,"
                " created_at) VALUES (3, 'g', 'a@x.example', '77', 'sent', now())")
    con.close()
    store = Store(path)
    assert store.db.rows("SELECT outlet_id, external_id FROM outlets ORDER BY 1") == [
        (4, "4"), (8, "8")]
    assert store.db.rows("SELECT contact_id, outlet_id, nonce FROM invitations") == [
        (3, None, "77")]
    assert store.outlet_key("8") == 8
    with pytest.raises(duckdb.ConstraintException):
        with store.db.transaction() as c:  # an invitation names a contact or an outlet
            c.execute("INSERT INTO invitations (contact_id, outlet_id, data_group, email, nonce,"
                      " status, created_at) VALUES (3, 4, 'g', 'b@x.example', '78', 'sent',"
                      " now())")
    store.release()
    con = duckdb.connect(str(path))
    assert migrate(con, MIGRATIONS) == []  # 0012 to 0014 applied by the store, in order
    con.close()
