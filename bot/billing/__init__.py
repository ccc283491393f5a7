"""Billing: estimates, invoices, payments (Stripe or the local sandbox), deposits, saved
cards, accounts receivable and statements. See docs/BILLING.md for the design."""
