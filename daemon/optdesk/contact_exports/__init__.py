"""The team's own contact exports (CRM, media database): column presets as data
(presets.yaml), the mapping of an export's columns to the import's fields (mapping.py) and the
reading of a file into one row per (contact, address) (reading.py)."""
