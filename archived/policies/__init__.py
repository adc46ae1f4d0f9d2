"""Site policies: the category allow-list of schedules and the mandatory archiving rules."""
