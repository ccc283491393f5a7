"""Tests of storage: migrations over populated databases."""
