"""Tests of bot.billing: ledger, invoices, estimates, payments, PDFs."""
