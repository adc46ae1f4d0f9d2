"""The contracts plugins implement: activity drivers and storage drivers (found through entry points)."""
