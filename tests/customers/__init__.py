"""Tests of bot.customers: names, intake and merging, files, the portal."""
