"""Who may file a spam complaint: the feedback-loop senders the team trusts, and proof that a
report really comes from one of them.

A feedback report (RFC 5965 ARF, or an Amazon SES complaint) opts a contact out for good, so
its ``From`` alone — which anyone can write — is not enough. A report is *accepted* when

1. its single ``From`` address is a configured sender (``[complaints] senders``: an address,
   or a domain that also covers its sub-domains), and
2. it is authenticated for the domain of that address (relaxed alignment, as DMARC: the same
   registrable domain):

   * the topmost ``Authentication-Results`` header written by the team's own MX (its
     authserv-id in ``[complaints] authserv_ids``) shows ``dkim=pass`` (``header.d``),
     ``spf=pass`` (``smtp.mailfrom``) or ``dmarc=pass`` (``header.from``) for it; headers of
     any other authserv-id are ignored, since anyone can write one (RFC 8601 §7.1);
   * else a ``DKIM-Signature`` of the message verifies (dkimpy; the signer's key is looked up
     in DNS through ``lookup_txt``), signs ``From`` and the whole body (no ``l=``);
   * a report with neither is accepted only with ``require_authentication = false``.

Anything else is a complaint *pending review*: ``check`` says why, the complaint stage sets
``review`` and the daemon applies nothing (``optdesk.daemon.actions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optdesk.domains import registrable

log = logging.getLogger(__name__)

# The known providers' feedback-loop senders, as the ``From`` of their reports. Sources:
# Microsoft's JMRP partner FAQ ("we forward the complaint from staff@hotmail.com") and sisimai's
# ARF module; the other addresses from AbuseIO's parser-fbl sender map (config/Fbl.php), whose
# Validity-hosted (senderscore.net, returnpath.net) loops serve Comcast, Mail.ru, Yandex …
# Exact addresses only: a domain entry for a free-mail domain (hotmail.com, yahoo.com, mail.ru,
# seznam.cz …) would let any of its users file complaints.
PROVIDERS: dict[str, tuple[str, ...]] = {
    "Microsoft (JMRP: Outlook.com, Hotmail, Live, MSN)": ("staff@hotmail.com",),
    "Yahoo CFL (Yahoo, AOL and the other Yahoo-hosted brands)": ("feedback@arf.mail.yahoo.com",),
    "AOL (its own loop, before it joined Yahoo's)": ("scomp@aol.net",),
    "Comcast (through Validity)": ("feedbackloop@comcastfbl.senderscore.net",),
    "Fastmail": ("feedbackloop@fbl.fastmail.com",),
    "Zoho": ("feedbackloop@fbl.zoho.com",),
    "Mail.ru (through Validity)": ("feedbackloop@mailru.senderscore.net",),
    "Yandex (through Validity)": ("feedbackloop@yandexfbl.senderscore.net",),
    "Cox": ("feedbackloop@fbl.cox.net",),
    "Rackspace": ("feedbackloop@fbl.apps.rackspace.com", "feedbackloop@feedback.apps.rackspace.com"),
    "OpenSRS (Tucows)": ("feedbackloop@fbl.hostedemail.com",
                         "feedbackloop@fbl-opensrs.app.returnpath.net"),
    "Time Warner Cable / Spectrum": ("feedbackloop@feedback.postmaster.rr.com",),
    "Synacor": ("feedbackloop@fbl.synacor.com",),
    "USA.NET": ("feedbackloop@fbl.usa.net",),
    "Terra": ("feedbackloop@feedback.terra.com",),
    "Italiaonline (Libero, Virgilio)": ("feedbackloop@fbl.italiaonline.net",),
    "Amazon SES (complaint forwarding)": ("complaints@email-abuse.amazonses.com",),
}
DEFAULT_SENDERS: tuple[str, ...] = tuple(a for addresses in PROVIDERS.values() for a in addresses)

TxtLookup = Callable[..., "bytes | None"]
_MAX_SIGNATURES = 5  # DKIM signatures tried per message (each may cost a DNS look-up)


def lookup_txt(name: bytes, timeout: float = 5) -> bytes | None:
    """The TXT record of ``name`` (a DKIM key: ``selector._domainkey.domain.``) from DNS,
    through dnspython (dkimpy's own look-up). Tests replace it."""
    from dkim.dnsplug import get_txt

    return get_txt(name, timeout=timeout)


@dataclass(frozen=True)
class Verdict:
    """Whether a complaint is accepted; ``reason`` (when not) is the review reason."""

    accepted: bool
    reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComplaintSenders:
    """The rule, as configured (``[complaints]`` of optdesk.toml; ``from_settings``).

    ``lookup``: TXT look-up for DKIM keys, called as ``lookup(name, timeout=…)`` (dkimpy's
    ``dnsfunc``); None means ``lookup_txt`` of this module at call time.
    """

    senders: tuple[str, ...] = DEFAULT_SENDERS
    authserv_ids: tuple[str, ...] = ()
    require_authentication: bool = True
    lookup: TxtLookup | None = None
    timeout: float = 5.0

    @classmethod
    def from_settings(cls, complaints: Any, lookup: TxtLookup | None = None) -> ComplaintSenders:
        """From ``Settings.complaints`` (``optdesk.settings.ComplaintSettings``)."""
        return cls(senders=tuple(complaints.senders), authserv_ids=tuple(complaints.authserv_ids),
                   require_authentication=bool(complaints.require_authentication), lookup=lookup)

    def listed(self, address: str | None) -> str | None:
        """The entry of ``senders`` that covers ``address``, or None."""
        address = (address or "").strip().lower()
        domain = address.rpartition("@")[2]
        if not domain:
            return None
        for entry in self.senders:
            entry = entry.strip().lower()
            if "@" in entry.lstrip("@"):  # an address: exactly it
                if address == entry:
                    return entry
            elif _within(domain, entry.lstrip("@")):  # a domain, and its sub-domains
                return entry
        return None

    def check(self, mail: Any, raw: bytes) -> Verdict:
        """Is this report (a ``ParsedMail`` and its exact bytes) from a trusted feedback loop?"""
        froms = _from_addresses(mail)
        sender = froms[0] if len(froms) == 1 else None
        evidence: dict[str, Any] = {"reporter": sender or ", ".join(froms) or None}
        if sender is None:
            what = "no From address" if not froms else f"{len(froms)} From addresses"
            return Verdict(False, f"complaint with {what}: not from a configured feedback-loop "
                                  "sender; nothing applied", evidence)
        entry = self.listed(sender)
        evidence["listed_as"] = entry
        if entry is None:
            return Verdict(False, f"complaint from {sender}, not a configured feedback-loop sender "
                                  "([complaints] senders); nothing applied", evidence)
        domain = sender.rpartition("@")[2]
        found = self._authentication_results(mail, domain)
        if found is None:
            found = self._dkim(mail, raw, domain)
        passed, how = found if found is not None else (None, "no DKIM signature, and no "
                                                       "Authentication-Results of the team's MX "
                                                       "([complaints] authserv_ids)")
        evidence["authentication"] = how
        if passed:
            return Verdict(True, None, evidence)
        if passed is None and not self.require_authentication:
            evidence["authentication"] = f"{how}; accepted: require_authentication = false"
            return Verdict(True, None, evidence)
        return Verdict(False, f"complaint from {sender} not authenticated for {domain}: {how}; "
                              "nothing applied", evidence)

    # -- Authentication-Results of the team's own MX ------------------------------------------
    def _authentication_results(self, mail: Any, domain: str) -> tuple[bool, str] | None:
        """(passed, what it says) from the topmost header of a trusted authserv-id; None when
        there is none (or no authserv-id is configured)."""
        trusted = {a.strip().lower() for a in self.authserv_ids}
        if not trusted:
            return None
        import authres

        for value in mail.headers("authentication-results"):
            words = value.split(";", 1)[0].split()
            server = words[0].lower() if words else ""
            if server not in trusted:
                continue
            try:
                header = authres.AuthenticationResultsHeader.parse_value(value)
            except Exception:  # noqa: BLE001 - the MX's header, unreadable: trust nothing below it
                return False, f"Authentication-Results of {server} could not be read"
            seen = []
            for result in header.results:
                method, outcome = str(result.method).lower(), str(result.result).lower()
                props = {f"{p.type}.{p.name}".lower(): str(p.value or "") for p in result.properties}
                identity = _result_domain(method, props)
                seen.append(f"{method}={outcome}" + (f" ({identity})" if identity else ""))
                if outcome == "pass" and identity and _aligned(identity, domain):
                    return True, f"Authentication-Results of {server}: {method}=pass for {identity}"
            said = ", ".join(seen) or "no results"
            return False, (f"Authentication-Results of {server} show no passing DKIM, SPF or "
                           f"DMARC result for {domain} ({said})")
        return None

    # -- DKIM, verified here --------------------------------------------------------------------
    def _dkim(self, mail: Any, raw: bytes, domain: str) -> tuple[bool, str] | None:
        """(passed, what was found) for the message's DKIM signatures; None when it has none."""
        if not mail.headers("dkim-signature"):
            return None
        if not raw:
            return False, "the message's bytes were not given, so its DKIM signature was not checked"
        import dkim

        notes = _Notes()
        try:
            signer = dkim.DKIM(raw, logger=notes, minkey=1024, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - unreadable for dkimpy: not verified
            return False, f"the DKIM signature could not be read ({type(exc).__name__})"
        count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
        lookup = self.lookup or lookup_txt
        found = []
        for idx in range(min(count, _MAX_SIGNATURES)):
            signer.domain, signer.signature_fields, signer.include_headers = None, {}, ()
            notes.errors.clear()
            try:
                ok = signer.verify(idx, dnsfunc=lookup)
                why = "did not verify" + (f": {notes.errors[-1]}" if notes.errors else "")
            except Exception as exc:  # noqa: BLE001 - dkim.DKIMException, DNS errors …
                ok, why = False, f"did not verify: {exc}"
            signed_by = (signer.domain or b"?").decode("ascii", "replace").lower()
            if ok and b"l" in signer.signature_fields:
                ok, why = False, "signs only part of the body (l=)"
            if ok and b"from" not in signer.include_headers:
                ok, why = False, "does not sign From"
            if ok and not _aligned(signed_by, domain):
                ok, why = False, f"verified, but {signed_by} is not the domain of the sender"
            if ok:
                return True, f"DKIM signature of {signed_by} verified"
            found.append(f"DKIM signature of {signed_by} {why}"[:300])
        return False, "; ".join(found) or "no DKIM signature dkimpy could read"


class _Notes:
    """A logger for dkimpy that keeps its errors (why a signature failed: a key missing from
    DNS, a DNS timeout …) for the review reason instead of logging them."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message, *args, **kwargs) -> None:
        self.errors.append(str(message % args if args else message))

    warning = info = error

    def debug(self, *args, **kwargs) -> None:
        pass

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - the logging.Logger name
        return False


def _from_addresses(mail: Any) -> list[str]:
    from optdesk.mail.parse import addresses_in

    return [a.lower() for a in addresses_in(mail.headers("from"))]


def _result_domain(method: str, props: dict[str, str]) -> str:
    """The domain a result speaks for: dkim header.d (or header.i), spf smtp.mailfrom, dmarc
    header.from."""
    if method == "dkim":
        value = props.get("header.d") or props.get("header.i", "")
    elif method == "spf":
        value = props.get("smtp.mailfrom") or props.get("smtp.mfrom", "")
    elif method == "dmarc":
        value = props.get("header.from", "")
    else:
        return ""
    return value.rpartition("@")[2].strip().strip(".").lower()


def _within(domain: str, parent: str) -> bool:
    parent = parent.strip().strip(".")
    return bool(parent) and (domain == parent or domain.endswith("." + parent))


def _aligned(a: str, b: str) -> bool:
    return bool(a and b) and registrable(a) == registrable(b)  # DMARC's relaxed alignment

