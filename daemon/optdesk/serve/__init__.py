"""The one-click unsubscribe endpoint (RFC 8058): Starlette on uvicorn.

* ``app.py``: the routes. ``POST /u/<token>`` with ``List-Unsubscribe=One-Click`` opts out at
  once and answers 200 (no redirect); ``GET /u/<token>`` changes nothing and shows a page with
  one button (a POST form) in the contact's language.
* ``writer.py``: one thread applies the POSTs to the store, many per transaction.
* ``limits.py``: the rate limit per client address and the request-body cap.
* ``pages.py``: the pages; their texts are ``pages/<language>.yaml``.
* ``server.py``: ``optdesk serve`` (its own process) and ``optdesk run --serve`` (a thread of
  the daemon, sharing its store).
"""
