"""Money moving: the payment gateway (Stripe or the sandbox), pay links, online and part payments, deposits, scheduled charges."""
