"""The control socket: JSON-RPC 2.0, one JSON object per line, over a Unix stream socket (ARCHITECTURE §4)."""
