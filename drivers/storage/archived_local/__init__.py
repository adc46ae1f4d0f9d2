"""The local directory storage driver (entry point `archived.storage`: local)."""
