"""Widgets of the TUI, one per module; they talk to their screen with messages, never to the app."""
