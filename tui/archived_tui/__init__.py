"""The terminal UI of archived (`archived tui`): a Textual app that talks to the daemon's socket only.

Installed as `archived_tui` (the repository keeps it in `tui/`). Entry point: `archived_tui.app.ArchivedApp`.
"""
