"""Lead hand-off delivery: signed Standard Webhooks requests, retried until they land."""
