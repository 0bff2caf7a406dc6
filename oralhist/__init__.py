"""oralhist: an oral-history pipeline for industrial-heritage and trades museums."""

__version__ = "0.1.0"
