"""The counsellors' admin view at /admin: server-rendered pages, no script."""
