"""conversations layer."""
