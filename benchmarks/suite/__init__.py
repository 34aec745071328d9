"""The pieces of `python -m benchmarks`: data, an SMTP sink, and one module per figure."""
