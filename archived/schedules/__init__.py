"""Schedules: cron times with a time zone, the selection rules a run applies, and the runs they record."""
