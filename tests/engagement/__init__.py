"""Tests of bot.engagement: reminders, follow-ups, consent."""
