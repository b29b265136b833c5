"""Information sessions and appointments: sessions, bookings, reminders, their files."""
