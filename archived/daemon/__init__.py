"""The daemon process: lifecycle, single-instance lock, systemd integration, and the wiring of its parts."""
