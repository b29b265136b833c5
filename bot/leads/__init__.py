"""Leads: people a counsellor should contact, and the signed events that carry them out."""
