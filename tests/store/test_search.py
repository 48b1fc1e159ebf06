"""Finding a contact: name and outlet words together, email, id, folding, counts and pages."""

from __future__ import annotations

import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk.store.search import query_words, search_keys


@pytest.mark.parametrize(("written", "typed"), [
    ("Søren", "soren"), ("Müller", "mueller"), ("Müller", "muller"), ("Müller", "Müll"),
    ("O'Brien", "obr"), ("O’Brien", "obrien"), ("O'Brien", "brien"), ("Straße", "strasse"),
    ("Łukasz", "lukasz"), ("Æsir", "aesir"), ("Lefèvre", "lefe"), ("Jean-Luc", "jeanl"),
])
def test_a_written_word_is_found_as_analysts_type_it(written, typed):
    (word,) = query_words(typed)
    assert any(key.startswith(word) for key in search_keys(written)), (written, typed)


def test_unrelated_words_do_not_match():
    assert not any(k.startswith("mueller") for k in search_keys("Muller"))  # no umlaut, no ue
    assert query_words("  , ") == []


def test_name_and_outlet_words_together(demo_store):
    everyone = demo_store.search_contacts("matteo esposito", "demo", limit=200)
    assert everyone.total > 1 and everyone.by == "name"
    target = everyone.rows.row(everyone.rows.height - 1, named=True)
    outlet_words = target["outlet"].lower().split()
    narrowed = demo_store.search_contacts(
        f"matteo esposito {outlet_words[0]} {' '.join(w[:4] for w in outlet_words[1:])}", "demo",
        limit=200)
    assert target["contact_id"] in narrowed.rows["contact_id"].to_list()
    assert narrowed.total < everyone.total
    assert all(r["name"] == "Matteo Esposito" and r["outlet"].lower().startswith(outlet_words[0])
               for r in narrowed.rows.iter_rows(named=True))


def test_folded_names_are_found(demo_store):
    for typed, name_part in (("soren", "Søren"), ("mueller", "Müller"), ("grace obr", "O'Brien")):
        found = demo_store.search_contacts(typed, "demo")
        assert found.total > 0, typed
        assert all(name_part in r for r in found.rows["name"]), typed


def test_count_and_pages(demo_store):
    first = demo_store.search_contacts("ma", "demo", limit=10)
    assert first.total > 30
    second = demo_store.search_contacts("ma", "demo", limit=10, offset=10)
    assert second.total == first.total and second.offset == 10
    ids = first.rows["contact_id"].to_list() + second.rows["contact_id"].to_list()
    assert len(set(ids)) == 20
    reach = first.rows["reach"].to_list() + second.rows["reach"].to_list()
    assert reach == sorted(reach, reverse=True)
    beyond = demo_store.search_contacts("ma", "demo", limit=10, offset=first.total + 5)
    assert beyond.rows.height == 0 and beyond.total == first.total


def test_by_id_and_by_email(demo_store):
    record = demo_store.contact(1234, "demo")
    for text in ("1234", "#1234", " 1234 "):
        found = demo_store.search_contacts(text, "demo")
        assert found.by == "id" and found.rows["contact_id"].to_list() == [1234]
    email = record["addresses"]["email"][0]
    found = demo_store.search_contacts(email.upper(), "demo")
    assert found.by == "email" and found.rows["contact_id"].to_list() == [1234]
    prefix = demo_store.search_contacts(email.split("@")[0] + "@", "demo")
    assert 1234 in prefix.rows["contact_id"].to_list()
    assert demo_store.search_contacts("99999999", "demo").total == 0


def test_private_address_only_from_its_group(demo_store):
    private = demo_store.search_contacts("c1@private.example", "demo")
    assert private.rows["contact_id"].to_list() == [1]
    assert demo_store.search_contacts("c1@private.example", "other").total == 0


def test_imported_contacts_are_indexed(demo_store, tmp_path):
    rows = [contact_row(880001, "zelda@example.org", first_name="Zélda", last_name="Groß",
                        outlet="Weiße Welle")]
    demo_store.import_contacts(write_contacts_csv(tmp_path / "z.csv", rows), "demo")
    found = demo_store.search_contacts("zelda gross weisse", "demo")
    assert found.rows["contact_id"].to_list() == [880001]
    assert found.rows["email"].to_list() == ["zelda@example.org"]


def test_an_older_store_builds_its_index_on_first_search(demo_store):
    with demo_store.db.transaction() as con:
        con.execute("DELETE FROM search_tokens")
        con.execute("DELETE FROM search_emails")
    demo_store._search_ready = False
    assert demo_store.search_contacts("soren", "demo").total > 0
    assert demo_store.search_contacts("c1@private.example", "demo").total == 1


def test_many_matches_are_counted_about_and_pages_stay_distinct(demo_store, monkeypatch):
    from optdesk.store import search

    exact = demo_store.search_contacts("m", "demo", limit=50)
    assert exact.exact
    monkeypatch.setattr(search, "EXACT_UP_TO", 10)
    about = demo_store.search_contacts("m", "demo", limit=50)
    assert not about.exact and abs(about.total - exact.total) <= exact.total * 0.1
    assert about.rows["contact_id"].to_list() == exact.rows["contact_id"].to_list()
    # a contact with two keys of one prefix (Müller: muller, mueller) is listed once
    mu = demo_store.search_contacts("mu", "demo", limit=200)
    assert mu.rows["contact_id"].n_unique() == mu.rows.height
