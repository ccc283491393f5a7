"""Reaching customers between visits: reminders, follow-ups, promotions and the consent they need."""
