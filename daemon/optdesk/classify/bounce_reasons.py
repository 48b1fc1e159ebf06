"""Why a recipient failed: the reasons a bounce can give, and the family each belongs to.

The families decide what a bounce does to an address (see rules/README.md):

| family    | reasons                                          | effect on the address        |
|-----------|--------------------------------------------------|------------------------------|
| gone      | the mailbox or domain does not exist, or takes no mail | ``undeliverable``      |
| trouble   | full, suspended, over a quota: in trouble for now | ``soft`` (the decaying score) |
| filtered  | a filter at the recipient refused it (unclear)   | ``soft`` at most             |
| sending   | our IP, domain, authentication, content, rate or the network | ``incident``: a sending incident for the team, nothing against the address |
| none      | not a failure: delivered, a complaint, an automatic reply | nothing              |

The reason names are sisimai's, so that figures can be compared with its public corpus. This
module imports nothing: the rule loader validates ``bounce_reason`` rules against it.
"""

from __future__ import annotations

# family -> (effect, label for people)
FAMILIES: dict[str, tuple[str, str]] = {
    "gone": ("undeliverable", "the address is gone"),
    "trouble": ("soft", "the address is in trouble for now"),
    "filtered": ("soft", "a filter at the recipient refused it"),
    "sending": ("incident", "our side or the road between"),
    "none": ("none", "not a failure"),
}

# reason -> (family, what it says, for people: "<provider> refused N messages: <this>")
REASONS: dict[str, tuple[str, str]] = {
    "userunknown": ("gone", "the mailbox does not exist"),
    "hostunknown": ("gone", "the domain does not exist"),
    "hasmoved": ("gone", "the address has moved"),
    "notaccept": ("gone", "the domain takes no mail"),
    "mailboxfull": ("trouble", "the mailbox is full"),
    "suspend": ("trouble", "the mailbox is suspended or disabled"),
    "exceedlimit": ("trouble", "the message is over the recipient's size limit"),
    "filtered": ("filtered", "a filter at the recipient refused it"),
    "blocked": ("sending", "our IP or domain is on a block list or was refused"),
    "spamdetected": ("sending", "our message was taken for spam"),
    "policyviolation": ("sending", "our message broke the receiver's policy"),
    "rejected": ("sending", "our sender address was refused"),
    "authfailure": ("sending", "SPF, DKIM or DMARC failed for our domain"),
    "requireptr": ("sending", "our IP has no (matching) reverse DNS"),
    "badreputation": ("sending", "our IP or domain has a poor reputation"),
    "toomanyconn": ("sending", "we opened too many connections"),
    "speeding": ("sending", "we sent too fast"),
    "networkerror": ("sending", "the network or DNS failed between us and them"),
    "systemerror": ("sending", "a mail server failed"),
    "systemfull": ("sending", "a mail server is out of disk space"),
    "mesgtoobig": ("sending", "our message is too big"),
    "contenterror": ("sending", "our message's content or format was refused"),
    "securityerror": ("sending", "authentication or encryption (TLS) was required"),
    "virusdetected": ("sending", "a virus was found in our message"),
    "norelaying": ("sending", "relaying was refused (wrong server or address)"),
    "notcompliantrfc": ("sending", "our message does not follow the mail standards"),
    "syntaxerror": ("sending", "an SMTP command of ours was refused"),
    "mailererror": ("sending", "the receiving mailer program failed"),
    "failedstarttls": ("sending", "TLS (STARTTLS) could not be set up"),
    "expired": ("sending", "delivery was retried until it expired"),
    "onhold": ("sending", "delivery is on hold"),
    "undefined": ("sending", "the notice gives no reason"),
    "delivered": ("none", "delivered (a success notice)"),
    "feedback": ("none", "a spam complaint"),
    "vacation": ("none", "an automatic reply"),
}


def family_of(reason: str) -> str:
    """The family of a reason name (``sending`` for an unknown one: never blame the address)."""
    entry = REASONS.get(reason)
    return entry[0] if entry else "sending"


def effect_of(reason: str) -> str:
    """undeliverable, soft, incident or none."""
    return FAMILIES[family_of(reason)][0]


def describe(reason: str) -> str:
    entry = REASONS.get(reason)
    return entry[1] if entry else reason


# transit reasons: the message did not get through, nobody refused it
_NOT_REFUSED = {"expired", "networkerror", "systemerror", "systemfull", "onhold", "undefined",
                "mailererror", "failedstarttls"}


def incident_sentence(provider: str, reason: str, messages: int, recipients: int | None = None) -> str:
    """For people: "outlook.com refused 14 messages: our IP or domain is on a block list"."""
    where = provider or "(unknown provider)"
    many = f"{messages:,} message{'s' if messages != 1 else ''}"
    if recipients is not None and recipients != messages:
        many += f" ({recipients:,} recipients)"
    verb = "could not take" if reason in _NOT_REFUSED else "refused"
    return f"{where} {verb} {many}: {describe(reason)} [{reason}]"
