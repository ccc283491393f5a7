"""webhooks layer: HTTP and polling ingress — the Flask app factory, one blueprint per provider, the web pages, the `slotbot` CLI."""
