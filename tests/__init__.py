"""slotbot test suite."""
