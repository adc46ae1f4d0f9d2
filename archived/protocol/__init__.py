"""The control socket's wire format, defined once: job states, every method's request and response models, event
payloads, error codes and the protocol version. The daemon, the CLI and the TUI all import it; it imports nothing
else of archived."""
