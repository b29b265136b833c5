"""The WhatsApp channel (Cloud API): its steps, its Graph API calls and its runtime, around
bot/messaging."""

# The conversations' channel name, and the outbox's (here, so that naming it loads no client).
CHANNEL = "whatsapp"
