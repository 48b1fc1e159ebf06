"""What keeps the endpoint cheap to abuse-proof: a token bucket per client address, and a cap on
request bodies (an RFC 8058 body is 26 bytes; a form adds a few more)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimit:
    """``rate`` requests per second per client address, bursts up to ``burst``. Remembers at most
    ``max_clients`` addresses (the least recently seen are forgotten, i.e. start full)."""

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate, self.burst, self.max_clients = float(rate), float(burst), max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self) -> int:
        return max(1, int(1 / self.rate + 0.999))


class BodyTooLarge(Exception):
    """The request body went past the cap."""


class BodyLimit:
    """ASGI middleware: a request whose body passes ``limit`` bytes (by Content-Length, or as
    it streams in) gets its ``receive`` raise BodyTooLarge, which the route answers with 413."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = declared is not None and (not declared.isdigit() or int(declared) > self.limit)
        seen = 0

        async def limited():
            nonlocal seen
            if too_big:
                raise BodyTooLarge()
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge()
            return message

        scope.setdefault("state", {})["body_too_large"] = too_big
        return await self.app(scope, limited, send)
