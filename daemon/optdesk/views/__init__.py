"""ipywidgets views over the store for the analysts' notebooks, one module per notebook.

- ``optout_contact``: 01, find a contact and opt them out;
- ``opted_out``: 02, everyone opted out, filtered, sorted, paged, with actions on a selection;
- ``review_queue``: 05, what the daemon could not decide;
- ``engagement``: 06, who opened or clicked a distribution, added to a media list;
- ``selection``: the hand-off of a selection to the invitations notebook (03).

Views hold no logic beyond calling the store; ``common`` has the shared helpers.
"""
