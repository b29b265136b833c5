"""HTTP service of Aiguillage: web chat, Telegram intake, lead hand-off and the admin view."""
