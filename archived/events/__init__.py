"""Events: the dispatcher that delivers the store's outbox to its consumers (the live bus of socket subscribers,
later the external connectors), and the live bus itself."""
