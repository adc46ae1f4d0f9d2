"""Stored archives over their retention: their timestamps renewed while they are kept (evidence renewal), and their
deletion from every target once their retain-until date has passed (or earlier, forced and audited), each deleted
copy kept as a tombstone."""
