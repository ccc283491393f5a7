"""The books: money arithmetic, invoices, payments recorded, receivables and statements."""
