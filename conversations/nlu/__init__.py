"""Reading customers' words (apart from dates, in conversations.when): intents, services, staff, recurrence, moves, and replies read against the screen."""
