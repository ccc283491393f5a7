"""Tests of webhooks: the app, the CLI, the dashboard, web chat, hostile input."""
