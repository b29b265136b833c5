"""The Telegram load benchmark: ``python -m bench.telegram_load`` (see README.md)."""
