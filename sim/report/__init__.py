"""The compensation-proposal report: document, text, HTML and PDF."""
