"""Tests of bot.scheduling: availability, booking, the waitlist, event logs."""
