"""adapters/sql."""
