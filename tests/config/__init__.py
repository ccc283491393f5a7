"""Tests of bot.config: business.toml and reloading it."""
