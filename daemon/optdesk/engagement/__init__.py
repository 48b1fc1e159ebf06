"""Engagement exports of the team's sending tools: reading them (``exports``), with their
column presets, timestamp formats and the prefetch rule as data files in this folder."""
