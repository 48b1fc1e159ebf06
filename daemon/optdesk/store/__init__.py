"""The store: the only place with SQL. One DuckDB file; see db.py for how it is shared.

``Store(path)`` is assembled from mixins, one module per concern. Queries return polars frames.
"""

from optdesk.store.admin import AdminQueries
from optdesk.store.base import SOURCES, StoreBase, utcnow
from optdesk.store.contact_ids import ContactIds
from optdesk.store.contacts import ContactQueries
from optdesk.store.deliverability import DeliverabilityOps
from optdesk.store.demo import DemoData
from optdesk.store.engagement import EngagementOps
from optdesk.store.importer import ContactImport
from optdesk.store.incidents import IncidentOps
from optdesk.store.invitations import InvitationOps
from optdesk.store.ledger import LedgerOps
from optdesk.store.one_click import OneClickOps
from optdesk.store.optouts import OptOutOps
from optdesk.store.outlets import OutletOps
from optdesk.store.reports import ReportQueries
from optdesk.store.review import ReviewQueue
from optdesk.store.search import SearchQueries
from optdesk.store.undo import UndoOps
from optdesk.store.writes import WriteOps


class Store(
    # every mixin of the store, one per line; keep StoreBase last
    AdminQueries,
    ContactIds,
    ContactQueries,
    ContactImport,
    DemoData,
    DeliverabilityOps,
    EngagementOps,
    IncidentOps,
    OneClickOps,
    OptOutOps,
    OutletOps,
    ReportQueries,
    SearchQueries,
    UndoOps,
    InvitationOps,
    LedgerOps,
    ReviewQueue,
    WriteOps,
    StoreBase,
):
    """The opt-out record and everything around it. Safe to share a file between processes."""


__all__ = ["SOURCES", "Store", "utcnow"]
