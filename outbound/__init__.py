"""Outbound webhooks: subscriptions, signed deliveries that follow the log, and their
records."""
