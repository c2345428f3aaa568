"""Parsers: bytes from a source in, ``PaperRecord``s out. No network, no database."""
