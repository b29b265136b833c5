"""The Telegram channel: its steps, its Bot API calls and its runtime, around bot/messaging."""

import os

# python-telegram-bot 22 moves durations (RetryAfter.retry_after) to timedelta and warns on
# every RetryAfter until this opt-in is set; we read both forms, so opt in.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# The conversations' channel name, and the outbox's (here, so that naming it loads no client).
CHANNEL = "telegram"
