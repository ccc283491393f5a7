"""Tests of bot.messaging: inbox, outbox, spool, senders and channels, hand-overs."""
