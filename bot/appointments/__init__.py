"""Information sessions and appointments: slots counsellors open, seats people book in the
conversation, their reminders, and attendance."""
