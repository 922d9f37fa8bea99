"""adapters/engines."""
