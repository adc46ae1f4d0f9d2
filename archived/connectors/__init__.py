"""Event connectors: the outbox's events, filtered per connector and delivered to outside systems (a webhook, mail,
a command), each connector on its own dispatcher lane with retries, delivery records and dead letters."""
