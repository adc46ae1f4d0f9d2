"""The terminal UI of archived (`archived tui`): a Textual app that talks to the daemon's socket only.

Installed as `archived.tui` (the repository keeps it in `tui/`). Entry point: `archived.tui.app.ArchivedApp`.
"""
