"""Conversation storage: SQLAlchemy models, the session factory and migrations."""
