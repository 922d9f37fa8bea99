"""adapters/sources."""
