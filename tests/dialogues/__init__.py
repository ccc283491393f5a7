"""Tests of the customer dialogues and of reading customers' words."""
