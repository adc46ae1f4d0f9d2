"""The SFTP storage driver (entry point `archived.storage`: sftp): archives on a file server reached over SSH."""
