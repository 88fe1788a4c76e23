"""Monitoring webhooks: each format is translated into alert reports for the domain."""
