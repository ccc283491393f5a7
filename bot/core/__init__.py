"""The shared kernel of bot: clock, errors, log context, metrics, safe names, formatting, the text catalogue and the domain-event bus."""
