"""The FTP/FTPS storage driver (entry point `archived.storage`: ftp): archives on an FTP server, explicit TLS."""
