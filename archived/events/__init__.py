"""Events: the in-process bus that feeds socket subscribers (and, later, external connectors)."""
