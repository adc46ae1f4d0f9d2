"""Retention of stored archives: deleting them from every target once their retain-until date has passed (or earlier,
forced and audited), keeping a tombstone of each deleted copy."""
