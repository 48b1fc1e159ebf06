"""The opt-out report: its tables (report), the HTML page (html) and its SVG charts (charts)."""
