"""The diary: availability, booking, agendas, edits, the waitlist, recurring series and each appointment's event log."""
