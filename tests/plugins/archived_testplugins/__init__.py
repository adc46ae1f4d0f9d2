"""Test-only plugins, registered through the committed dist-info next to this package."""
