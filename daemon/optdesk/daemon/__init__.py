"""The daemon: one poll of the mailbox (ingest), what a decision does to the store (actions),
and the schedule that runs polls and reports (scheduler)."""
