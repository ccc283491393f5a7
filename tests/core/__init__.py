"""Tests of bot/core: the reply catalogues and the scan that keeps every reply text in them."""
