"""Keys of the transaction-level lock (``Transaction.lock_chat``) that are not chats.

They sit in one place so that no two uses share one. Chat ids (Telegram's, a WhatsApp
number) have at most 52 bits: keys below -2**62 are free for these.
"""

# Sign-in attempts are counted one at a time (bot/accounts/sign_in_throttle.py).
SIGN_IN_LOCK = -(2**62) + 1
# Counsellor notices held back in one window update one digest (bot/leads/handoff.py).
DIGEST_LOCK = -(2**62) + 2
