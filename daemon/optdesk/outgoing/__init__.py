"""Mail optdesk sends: opt-in invitations (invitations, templates/) over SMTP (smtp)."""
