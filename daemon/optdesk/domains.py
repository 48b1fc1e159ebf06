"""The registrable domain of a host name, from the Public Suffix List (publicsuffixlist).

One rule for everyone who groups by organisation: DMARC's relaxed alignment of feedback-loop
reports (``feedback_loops``) and the remote provider of a sending incident (``classify.bounce``).
The list is parsed on first use, not at import, or handed over already parsed (``adopt``: the
classifier's prepared rules keep it, ``optdesk.classify.prepared``).
"""

from __future__ import annotations

import functools

_LIST = None  # the parsed Public Suffix List


def suffix_list():
    """The parsed Public Suffix List (parsed here on first use)."""
    global _LIST
    if _LIST is None:
        from publicsuffixlist import PublicSuffixList

        _LIST = PublicSuffixList()
    return _LIST


def adopt(parsed) -> None:
    """Use this parsed list (one kept from an earlier run) instead of parsing the file."""
    global _LIST
    if parsed is not None and _LIST is None:
        _LIST = parsed


@functools.lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """arf.mail.yahoo.com → yahoo.com, mx1.mail.protection.outlook.com → outlook.com; a name the
    list does not know (or a bare suffix) as it is, lower-cased, without the final dot."""
    domain = domain.strip().strip(".").lower()
    return suffix_list().privatesuffix(domain) or domain if domain else ""
