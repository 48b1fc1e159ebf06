"""The registrable domain of a host name, from the Public Suffix List (publicsuffixlist).

One rule for everyone who groups by organisation: DMARC's relaxed alignment of feedback-loop
reports (``feedback_loops``) and the remote provider of a sending incident (``classify.bounce``).
The list is parsed on first use, not at import.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@functools.lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """arf.mail.yahoo.com → yahoo.com, mx1.mail.protection.outlook.com → outlook.com; a name the
    list does not know (or a bare suffix) as it is, lower-cased, without the final dot."""
    domain = domain.strip().strip(".").lower()
    return _psl().privatesuffix(domain) or domain if domain else ""
