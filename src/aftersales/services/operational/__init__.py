"""Use cases of the operational plane: API keys, idempotency, event ingestion, resources, webhooks."""
