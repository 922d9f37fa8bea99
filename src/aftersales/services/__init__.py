"""Use cases: orchestrate core rules and ports (protocols) that bootstrap fills with adapters."""
