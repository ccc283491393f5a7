"""bot layer: the business — configuration, messages, availability, booking, billing, outbox, senders, jobs."""
