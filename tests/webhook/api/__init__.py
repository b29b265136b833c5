"""The web chat's JSON APIs beside /api/chat."""
