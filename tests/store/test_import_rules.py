"""Import refusals: a column named twice, addresses by the one address rule (row and column)."""

from __future__ import annotations

import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk import addresses
from optdesk.errors import ImportFailed
from optdesk.store.importer import COLUMNS


def counts(store) -> tuple[int, int]:
    return (store.db.scalar("SELECT count(*) FROM contacts"),
            store.db.scalar("SELECT count(*) FROM addresses"))


def test_a_header_naming_email_twice_is_refused(store, tmp_path):
    path = tmp_path / "twice.csv"
    header = [*COLUMNS, "email"]
    row = ["1", "Ann", "One", "Outlet", "10", "Editor", "first@x.example", "system", "L", "FR",
           "fr", "5", "second@x.example"]
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as err:
        store.import_contacts(path, "g1")
    message = str(err.value)
    assert f"header row, column {len(header)}: 'email' is also column 7" in message
    assert str(path) in message and "\n" not in message
    assert counts(store) == (0, 0)


def test_a_header_with_a_byte_order_mark_and_a_repeated_column(store, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + ",".join([*COLUMNS, "contact_id"]) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="'contact_id' is also column 1"):
        store.import_contacts(path, "g1")


@pytest.mark.parametrize(("email", "reason"), [
    ("a@x..example", "two periods in a row"),
    ("a@-x.example", "hyphen"),
    ("a.@x.example", "period"),
    ("a@x.example-", "hyphen"),
    ("a@localhost", "should have a period"),
    ("a@printer.local", "special-use"),
    ('"quoted"@x.example', "Quoting"),
    ("a@[127.0.0.1]", "bracketed IP"),
    ("Ann <a@x.example>", "display name"),
    ("x" * 65 + "@x.example", "too long"),
])
def test_bad_address_named_by_row_and_column_with_the_reason(store, contacts_csv, email, reason):
    rows = [contact_row(1, "a1@x.example"), contact_row(2, "a2@x.example"),
            contact_row(3, email)]
    with pytest.raises(ImportFailed) as err:
        store.import_contacts(contacts_csv(rows), "g1")
    message = str(err.value)
    assert "row 3, column email: not an email address" in message
    assert reason in message and repr(email) in message
    assert counts(store) == (0, 0)


def test_internationalised_addresses_import(store, contacts_csv):
    store.import_contacts(contacts_csv([
        contact_row(1, "García@Example.ES"), contact_row(2, "a@münchen.example"),
        contact_row(3, "b@xn--mnchen-3ya.example")]), "g1")
    emails = {store.contact(c, "g1")["addresses"]["email"][0] for c in (1, 2, 3)}
    assert emails == {"garcía@example.es", "a@münchen.example", "b@xn--mnchen-3ya.example"}


def test_the_importer_holds_to_the_address_rule(store, tmp_path):
    """Every address the rule accepts imports; every one it refuses is refused, named."""
    samples = ["ok@x.example", "a+tag@x.example", "o'brien@x.example", "a@x..example",
               "a@-x.example", "a@x_y.example", "a@x", "a b@x.example", "a@x.example.",
               "élodie@x.example", "a@b.c", "a@123.example.45", "=sum(1)@x.example",
               "-@x.example", "a@@x.example", "a@x.example\r\nBcc: y@z.example"]
    for n, email in enumerate(samples):
        path = write_contacts_csv(tmp_path / f"c{n}.csv", [contact_row(n + 1, email)])
        reason = addresses.problem(email.strip())
        if reason is None:
            store.import_contacts(path, "g1")
        else:
            with pytest.raises(ImportFailed, match="row 1, column email"):
                store.import_contacts(path, "g1")


def test_the_domain_cache_changes_no_answer(monkeypatch):
    """The memoised domain check (for import speed) answers as email-validator does uncached."""
    import sys

    assert addresses.DOMAIN_CHECKS_CACHED
    module = sys.modules["email_validator.validate_email"]
    samples = ["ok@x.example", "b@X.Example", "a@x..example", "a@-x.example", "a@münchen.example",
               "a@xn--mnchen-3ya.example", "a@host.local", "a@x", "a@x_y.example", "ok@x.example"]
    cached = [addresses.problem(s) for s in samples] + [addresses.problem(s) for s in samples]
    assert module.validate_email_domain_name.cache_info().hits > 0
    monkeypatch.setattr(module, "validate_email_domain_name",
                        module.validate_email_domain_name.__wrapped__)
    plain = [addresses.problem(s) for s in samples] * 2
    assert cached == plain
