"""Running the endpoint: ``serve_forever`` (``optdesk serve``, its own process) and
``ServeThread`` (``optdesk run --serve``: a thread of the daemon, sharing its store, so there is
one writer of the store in the process).

uvicorn serves the app on a socket bound here first, so that a port in use is one clear error.
Its access log is off: every URL carries a token.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading

from optdesk.errors import ConfigError
from optdesk.serve.app import build_app
from optdesk.serve.writer import OneClickWriter

log = logging.getLogger(__name__)
summary = logging.getLogger("optdesk.summary")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a ConfigError naming the setting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it; uvicorn does not set it on a socket it is given, and
    # without it every answer on a kept-alive connection waits ~40 ms (Nagle and delayed ACK)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"serve.host/serve.port: cannot listen on {host}:{port}: "
                          f"{exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(app, serve_settings):
    import uvicorn

    config = uvicorn.Config(
        app, log_config=None, access_log=False, server_header=False, proxy_headers=True,
        forwarded_allow_ips=serve_settings.forwarded_allow_ips or None, lifespan="off",
        timeout_keep_alive=5, backlog=2048)
    return uvicorn.Server(config)


class OneClickService:
    """The app, its writer and the uvicorn server for one store and key."""

    def __init__(self, settings, store, key: bytes, host: str | None = None,
                 port: int | None = None) -> None:
        self.settings = settings
        self.host = host or settings.serve.host
        self.port = settings.serve.port if port is None else port
        self.writer = OneClickWriter(store)
        self.sock = bind(self.host, self.port)
        self.port = self.sock.getsockname()[1]
        self.server = _server(build_app(store, self.writer, key, settings.serve), settings.serve)
        self.store = store

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def announce(self) -> None:
        summary.info("optdesk serve: one-click unsubscribe on %s (POST %s/u/TOKEN; "
                     "public_url %s)", self.address, self.address, self.settings.public_url)

    def run(self) -> None:
        """Serve until the server is told to stop (SIGTERM/SIGINT in the main thread)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.writer.close()
            self.sock.close()
            self.store.release()


def serve_forever(settings, store, key: bytes, host: str | None = None,
                  port: int | None = None) -> None:
    """``optdesk serve``: the endpoint over ``store`` until SIGTERM/SIGINT."""
    service = OneClickService(settings, store, key, host, port)
    # uvicorn handles SIGTERM/SIGINT (finishing open requests), then re-raises the signal to the
    # handlers it found: these, so that the writer's queue is written and the store let go
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.announce()
        service.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary.info("optdesk serve stopped")


class ServeThread:
    """The endpoint in a thread of this process (``optdesk run --serve``)."""

    def __init__(self, settings, store, key: bytes) -> None:
        self.service = OneClickService(settings, store, key)
        self.thread = threading.Thread(target=self.service.run, name="optdesk-serve",
                                       daemon=True)

    def start(self) -> None:
        self.service.announce()
        self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.service.server.should_exit = True
        self.thread.join(timeout)
