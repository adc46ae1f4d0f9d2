"""The course overview: what can be archived, and what changed since the last archive."""
