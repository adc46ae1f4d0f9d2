"""The TUI's screens: one per module (dashboard, courses, jobs, job detail, storage, help)."""
