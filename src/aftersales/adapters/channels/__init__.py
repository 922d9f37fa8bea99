"""Outgoing channels: webhooks (HTTP), later e-mail."""
