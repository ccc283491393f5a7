"""What customers receive and sign: estimates, invoice delivery, PDFs and the evidence on them."""
