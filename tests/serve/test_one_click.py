"""RFC 8058 one-click unsubscribe against a running ``optdesk serve`` on 127.0.0.1: real HTTP
requests (httpx), the store read afterwards from this process."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from fixtures.serve import primary_addresses, url_for
from optdesk.store import Store
from optdesk.tokens import make_token, one_click_url

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def _state(db) -> dict:
    """What a request may change: opt-outs, events, used tokens (counted)."""
    store = Store(db)
    try:
        return {
            "optouts": store.db.scalar("SELECT count(*) FROM optouts"),
            "events": store.db.scalar("SELECT count(*) FROM events"),
            "tokens": store.db.scalar("SELECT count(*) FROM one_click_requests"),
        }
    finally:
        store.release()


def _contact(db, n: int = 0, language: str | None = None):
    rows = primary_addresses(Store(db), 300)
    if language:
        rows = [r for r in rows if r[2] == language]
    return rows[n]


def test_post_one_click_opts_out_at_once_and_answers_200_without_redirect(served):
    db, proc = served
    cid, email, _ = _contact(db)
    before = _state(db)
    url = url_for(proc.address, cid, email)
    answer = httpx.post(url, data=ONE_CLICK, follow_redirects=False)
    assert answer.status_code == 200 and "location" not in answer.headers
    assert "unsubscribed" in answer.text and answer.headers["cache-control"] == "no-store"
    store = Store(db)
    events = store.events(contact_id=cid, kinds=["opt_out"])
    assert events.height == 1 and events["source"][0] == "one_click"
    import json

    evidence = json.loads(events["evidence"][0])
    assert evidence["token"]["contact_id"] == cid and evidence["token"]["data_group"] == "demo"
    requested = dt.datetime.fromisoformat(evidence["requested_at"])
    assert requested <= events["occurred_at"][0]
    assert store.is_suppressed(email, "demo")
    store.release()
    after = _state(db)
    assert after == {k: v + 1 for k, v in before.items()}
    token = url.split("/u/", 1)[1]  # base32 of signed bytes: no address, no "?id=" in clear
    assert token.isalnum() and email.split("@")[0] not in token and "@" not in url


def test_get_shows_a_confirmation_in_the_contacts_language_then_the_button_posts(served):
    db, proc = served
    cid, email, language = _contact(db, language="fr")
    url = url_for(proc.address, cid, email)
    before = _state(db)
    page = httpx.get(url, headers={"Accept-Language": "de"})
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert 'method="post"' in page.text and "Se désinscrire</button>" in page.text
    assert "<script" not in page.text and "script-src" not in page.headers["content-security-policy"]
    assert _state(db) == before  # a GET changes nothing
    # the page's form, as a browser sends it
    done = httpx.post(url, data={"List-Unsubscribe": "One-Click", "lang": "fr"})
    assert done.status_code == 200 and "Vous êtes désinscrit" in done.text
    assert _state(db)["optouts"] == before["optouts"] + 1
    again = httpx.get(url)
    assert again.status_code == 200 and "Vous étiez déjà désinscrit" in again.text
    assert 'method="post"' not in again.text


def test_the_same_token_twice_is_idempotent(served):
    db, proc = served
    cid, email, _ = _contact(db, 1)
    url = url_for(proc.address, cid, email)
    first = httpx.post(url, data=ONE_CLICK)
    middle = _state(db)
    second = httpx.post(url, files={"List-Unsubscribe": (None, "One-Click")})  # multipart
    assert (first.status_code, second.status_code) == (200, 200)
    assert "already unsubscribed" in second.text and "Nothing has changed" in second.text
    assert _state(db) == middle


@pytest.mark.parametrize("spoil", ["tampered", "truncated", "not base32", "wrong purpose",
                                   "other key"])
def test_a_bad_token_changes_nothing_and_says_so(served, spoil):
    db, proc = served
    cid, email, _ = _contact(db, 2)
    token = make_token(b"k" * 40 if spoil == "other key" else
                       b"one-click-test-key-0123456789abcdef-0123456789",
                       "optin" if spoil == "wrong purpose" else "unsubscribe", cid, "demo", email)
    if spoil == "tampered":
        token = token[:10] + ("a" if token[10] != "a" else "b") + token[11:]
    elif spoil == "truncated":
        token = token[:-4]
    elif spoil == "not base32":
        token = token[:-1] + "!"
    before = _state(db)
    url = one_click_url(proc.address, token)
    for answer in (httpx.get(url), httpx.post(url, data=ONE_CLICK)):
        assert answer.status_code in (400, 404), answer.status_code
        assert "Nothing has changed" in answer.text
    assert _state(db) == before


def test_an_expired_token_changes_nothing_and_says_so(served):
    db, proc = served
    cid, email, _ = _contact(db, 3)
    url = url_for(proc.address, cid, email,
                  expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    before = _state(db)
    answer = httpx.post(url, data=ONE_CLICK)
    assert answer.status_code == 410 and "expired" in answer.text
    assert "Nothing has changed" in answer.text
    assert _state(db) == before


def test_a_token_reused_after_an_opt_in_changes_nothing_and_says_so(served):
    db, proc = served
    cid, email, _ = _contact(db, 4)
    url = url_for(proc.address, cid, email)
    assert httpx.post(url, data=ONE_CLICK).status_code == 200
    store = Store(db)
    assert store.opt_in(cid, "demo", source="manual", actor="test", reason="asked to come back")
    store.release()
    before = _state(db)
    reused = httpx.post(url, data=ONE_CLICK)
    assert reused.status_code == 409 and "used before" in reused.text
    assert "Nothing has changed" in reused.text
    assert httpx.get(url).status_code == 409
    assert _state(db) == before
    fresh = httpx.post(url_for(proc.address, cid, email), data=ONE_CLICK)  # a newer mail's link
    assert fresh.status_code == 200 and _state(db)["optouts"] == before["optouts"] + 1


def test_a_token_of_a_contact_the_store_does_not_have(served):
    db, proc = served
    before = _state(db)
    answer = httpx.post(url_for(proc.address, 987654, "gone@example.org"), data=ONE_CLICK)
    assert answer.status_code == 404 and "Nothing has changed" in answer.text
    assert _state(db) == before


def test_a_post_that_is_not_one_click_or_too_large_changes_nothing(served):
    db, proc = served
    cid, email, _ = _contact(db, 5)
    url = url_for(proc.address, cid, email)
    before = _state(db)
    assert httpx.post(url).status_code == 400
    assert httpx.post(url, data={"List-Unsubscribe": "one-click"}).status_code == 400
    assert httpx.post(url, data={**ONE_CLICK, "pad": "x" * 10_000}).status_code == 413

    def chunks():  # no Content-Length: the cap counts the bytes as they come
        yield b"List-Unsubscribe=One-Click&pad="
        for _ in range(20):
            yield b"x" * 1000

    assert httpx.post(url, content=chunks(), headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    assert _state(db) == before


def test_a_scanner_like_get_flood_changes_nothing_and_is_rate_limited(served):
    db, proc = served
    urls = [url_for(proc.address, cid, email) for cid, email, _ in primary_addresses(Store(db), 60)]
    before = _state(db)
    codes: dict[int, int] = {}
    with httpx.Client() as client:
        for i in range(600):  # every link of a mail, prefetched again and again, and HEADs
            method = client.head if i % 5 == 0 else client.get
            code = method(urls[i % len(urls)]).status_code
            codes[code] = codes.get(code, 0) + 1
    assert set(codes) <= {200, 429}, codes
    assert codes.get(200, 0) >= 150 and codes.get(429, 0) > 0, codes  # burst 200, then 20/s
    assert _state(db) == before


def test_the_report_has_a_compliance_clock_for_one_click(served):
    from optdesk.reports.html import compliance_table

    db, proc = served
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    for cid, email, _ in primary_addresses(Store(db), 3):
        assert httpx.post(url_for(proc.address, cid, email), data=ONE_CLICK).status_code == 200
    end = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    store = Store(db)
    clock = store.report_compliance("demo", began, end)
    store.release()
    row = clock.filter(source="one_click").row(0, named=True)
    assert row["opt_outs"] == 3 and 0 <= row["median_seconds"] <= row["max_seconds"] < 5
    assert clock.filter(clock["source"].is_null())["opt_outs"].to_list() == [3]

    class Report:
        tables = {"compliance": clock}

    assert "<td class=l>one-click</td><td>3</td>" in compliance_table(Report)
    assert " ms</td>" in compliance_table(Report)
