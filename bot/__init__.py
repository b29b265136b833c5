"""Conversation runtime of Aiguillage: settings, storage, channels and reminders."""
