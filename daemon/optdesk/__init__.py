"""optdesk: the opt-out desk of a PR team."""

__version__ = "0.1.0"
