"""The Telegram channel: webhook intake, an inbox processed once per update, an outbox sender."""

import os

# python-telegram-bot 22 moves durations (RetryAfter.retry_after) to timedelta and warns on
# every RetryAfter until this opt-in is set; we read both forms, so opt in.
os.environ.setdefault("PTB_TIMEDELTA", "true")
