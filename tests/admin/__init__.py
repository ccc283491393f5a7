"""Tests of conversations.admin: the owner and staff chat."""
