"""The S3-compatible storage driver with WORM object lock (entry point `archived.storage`: s3)."""
