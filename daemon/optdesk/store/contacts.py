"""Contacts, their addresses and media lists: type-ahead search and the contact record."""

from __future__ import annotations

import polars as pl

from optdesk.errors import NotFound


class ContactQueries:
    """Mixin: read-side queries about contacts. Needs ``self.db`` (a Database)."""

    def find_contacts(self, text: str, data_group: str | None = None, limit: int = 20) -> pl.DataFrame:
        """The first page of ``search_contacts`` (name and outlet words, email or the team's id),
        biggest reach first. Columns: contact_id (the internal key), external_id (the team's
        id), name, outlet, reach, title, country, language, opted_out (and optout_source,
        email)."""
        return self.search_contacts(text, data_group, limit=limit).rows

    def contact(self, contact_id: int, data_group: str) -> dict:
        """The whole record of one contact (by its internal key; ``contact_key`` turns the team's
        id into it) as seen from one data group.

        Keys: contact (dict, with external_id, the team's id), addresses, lists, history, invitations (polars frames),
        optout (dict or None).
        """
        with self.db.connection() as con:
            frames = {
                part: con.sql(sql, params=[int(contact_id)] + ([data_group] if n else [])).pl()
                for part, (sql, n) in _RECORD_QUERIES.items()
            }
        if frames["contact"].height == 0:
            raise NotFound(f"no contact with id {contact_id}")
        optout = frames.pop("optout")
        return {
            **frames,
            "contact": frames["contact"].row(0, named=True),
            "optout": optout.row(0, named=True) if optout.height else None,
        }

    def contacts_for_email(self, email: str, data_group: str) -> list[int]:
        """Contacts that own this address as seen from the data group (system or its private)."""
        rows = self.db.rows(
            "SELECT DISTINCT contact_id FROM visible_addresses(?) WHERE email = ?"
            " ORDER BY contact_id",
            [data_group, email.strip().lower()],
        )
        return [int(r[0]) for r in rows]

    def lists(self, data_group: str) -> pl.DataFrame:
        """Media lists of a data group: list_id, name, members, opted_out."""
        return self.db.frame(
            "SELECT l.list_id, l.name, count(m.contact_id) AS members,"
            " count(o.contact_id) AS opted_out"
            " FROM media_lists l LEFT JOIN list_members m USING (list_id)"
            " LEFT JOIN optouts o ON o.contact_id = m.contact_id AND o.data_group = l.data_group"
            " WHERE l.data_group = ? GROUP BY l.list_id, l.name ORDER BY l.name",
            [data_group],
        )

    def list_names(self, data_group: str) -> list[str]:
        """The names of the group's media lists, sorted (no counts: cheap for 10,000 lists)."""
        return [r[0] for r in self.db.rows(
            "SELECT name FROM media_lists WHERE data_group = ? ORDER BY name", [data_group])]

    def data_groups(self) -> list[str]:
        return [r[0] for r in self.db.rows("SELECT data_group FROM data_groups ORDER BY 1")]


# part of the record → (SQL with the contact id first, whether the data group follows)
_RECORD_QUERIES = {
    "contact": (
        "SELECT c.contact_id, c.external_id, c.first_name, c.last_name, c.name, o.name AS outlet,"
        " o.reach AS outlet_reach, c.title, c.country, c.language, c.reach"
        " FROM contacts c LEFT JOIN outlets o USING (outlet_id) WHERE c.contact_id = ?", False),
    "addresses": (
        "SELECT a.email, a.kind, a.data_group, a.is_primary,"
        " coalesce(d.undeliverable, false) AS undeliverable,"
        " coalesce(d.bounce_score, 0.0) AS bounce_score"
        " FROM visible_addresses($2) a LEFT JOIN deliverability d USING (email)"
        " WHERE a.contact_id = $1"
        " ORDER BY a.is_primary DESC, a.kind DESC, a.email", True),
    "lists": (
        "SELECT l.list_id, l.name FROM list_members m JOIN media_lists l USING (list_id)"
        " WHERE m.contact_id = ? AND l.data_group = ? ORDER BY l.name", True),
    "optout": (
        "SELECT source, actor, reason, opted_out_at, event_id FROM optouts"
        " WHERE contact_id = ? AND data_group = ?", True),
    "history": (
        "SELECT event_id, occurred_at, kind, source, actor, reason, email, evidence FROM events"
        " WHERE contact_id = ? AND data_group = ? ORDER BY occurred_at DESC, event_id DESC", True),
    "invitations": (
        "SELECT invitation_id, email, status, language, subject, sent_at, expires_at,"
        " answered_at FROM invitations WHERE contact_id = ? AND data_group = ?"
        " ORDER BY created_at DESC", True),
}
