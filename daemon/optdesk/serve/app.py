"""The routes of the one-click endpoint.

``POST /u/<token>``: a body with ``List-Unsubscribe=One-Click`` (form-urlencoded or multipart, as
RFC 8058 allows) opts the contact out now and answers 200 with a page, never a redirect. Anything
else changes nothing: a bad, forged or wrong-purpose token (400), an expired one (410), one used
before the contact was opted back in (409), one whose contact the store no longer has (404), a
POST without the one-click field (400), too many requests from one address (429), a body past
the cap (413), a store that stayed busy (503, try again).

``GET /u/<token>`` only reads: a page in the contact's language with one button, a POST form to
the same URL (link scanners and mail-gateway prefetchers follow GETs; they must not unsubscribe
anyone). ``GET /healthz`` answers ``ok``.

Every answer has ``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` (the token is
in the URL) and a Content-Security-Policy that allows no script.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from optdesk.errors import BadToken
from optdesk.serve.limits import BodyLimit, BodyTooLarge, RateLimit
from optdesk.serve.pages import language_of, page
from optdesk.store.base import utcnow
from optdesk.store.one_click import OneClickRequest
from optdesk.tokens import token_hash as hash_of
from optdesk.tokens import verify_token

log = logging.getLogger(__name__)

STATUS = {"confirm": 200, "done": 200, "already": 200, "bad": 400, "not_one_click": 400,
          "unknown": 404, "reused": 409, "expired": 410, "too_large": 413, "too_many": 429,
          "busy": 503}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
}
WAIT = 60.0  # seconds a POST waits for its transaction before saying "try again"


def _answer(kind: str, language: str, retry_after: int | None = None) -> HTMLResponse:
    headers = dict(HEADERS)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return HTMLResponse(page(kind, language), status_code=STATUS[kind], headers=headers)


class OneClick:
    """The endpoint's state: the store (reads), the writer (writes), the key, the limits."""

    def __init__(self, store, writer, key: bytes, limit: RateLimit) -> None:
        self.store, self.writer, self.key, self.limit = store, writer, key, limit

    def _verify(self, token: str):
        """(payload, None) or (None, page kind)."""
        try:
            return verify_token(self.key, token, "unsubscribe"), None
        except BadToken as exc:
            return None, "expired" if exc.reason == "expired" else "bad"

    def _limited(self, request: Request) -> bool:
        client = request.client.host if request.client else "unknown"
        return not self.limit.allow(client)

    async def get(self, request: Request) -> HTMLResponse:
        accept = request.headers.get("accept-language")
        if self._limited(request):
            return _answer("too_many", language_of(accept=accept), self.limit.retry_after())
        token = request.path_params["token"]
        payload, problem = self._verify(token)
        if problem:
            return _answer(problem, language_of(accept=accept))
        state = await run_in_threadpool(self.store.one_click_state, hash_of(token),
                                        payload.contact_id, payload.data_group)
        language = language_of(state["language"], accept=accept)
        if not state["known"]:
            return _answer("unknown", language)
        if state["opted_out"]:
            return _answer("already", language)
        return _answer("reused" if state["used"] else "confirm", language)

    async def post(self, request: Request) -> HTMLResponse:
        requested_at = utcnow()
        accept = request.headers.get("accept-language")
        if self._limited(request):
            return _answer("too_many", language_of(accept=accept), self.limit.retry_after())
        try:
            if request.scope["state"].get("body_too_large"):
                raise BodyTooLarge()
            form = await request.form(max_files=0, max_fields=8)
        except BodyTooLarge:
            return _answer("too_large", language_of(accept=accept))
        except Exception:  # noqa: BLE001 - a body the form parser refuses is not one-click
            return _answer("not_one_click", language_of(accept=accept))
        language = language_of(str(form.get("lang") or ""), accept=accept)
        if form.get("List-Unsubscribe") != "One-Click":
            return _answer("not_one_click", language)
        token = request.path_params["token"]
        payload, problem = self._verify(token)
        if problem:
            return _answer(problem, language)
        evidence = {"channel": "one_click", "requested_at": requested_at.isoformat(),
                    "via": "confirmation page" if form.get("lang") else "one-click POST",
                    "token": payload.to_dict()}
        future = self.writer.submit(OneClickRequest(
            hash_of(token), int(payload.contact_id), payload.data_group, payload.nonce,
            payload.email_fp, requested_at, evidence))
        try:
            outcome = await asyncio.wait_for(asyncio.wrap_future(future), WAIT)
        except Exception as exc:  # noqa: BLE001 - the store is busy or failing: nothing applied
            log.warning("one-click: answered 'try again': %s: %s", type(exc).__name__, exc)
            return _answer("busy", language, retry_after=30)
        return _answer("done" if outcome == "applied" else outcome, language)


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok", headers=HEADERS)


def build_app(store, writer, key: bytes, serve_settings) -> BodyLimit:
    """The ASGI app: routes behind the body cap."""
    limit = RateLimit(serve_settings.rate_per_second, serve_settings.rate_burst)
    one_click = OneClick(store, writer, key, limit)
    app = Starlette(routes=[
        Route("/u/{token:str}", one_click.get, methods=["GET", "HEAD"]),
        Route("/u/{token:str}", one_click.post, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])
    return BodyLimit(app, serve_settings.max_body_bytes)
