"""ipywidgets views over the store for the analysts' notebooks, one module per notebook.

- ``optout_contact``: 01, find a contact and opt them out;
- ``opted_out``: 02, everyone opted out, filtered, sorted, paged, with actions on a selection;
- ``review_queue``: 05, what the daemon could not decide;
- ``selection``: the hand-off of a selection to the invitations notebook (03).

Views hold no logic beyond calling the store; ``common`` has the shared helpers.
"""
