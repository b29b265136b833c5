"""SMS (Brevo transactional SMS): reminders to web chat people who agreed, sent by the shared
outbox sender; the provider's delivery reports and STOP answers come back on /sms/webhook."""

# The outbox's channel name (here, so that naming it loads no client).
CHANNEL = "sms"
