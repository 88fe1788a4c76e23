"""Inbound monitoring formats: payload models, validation and mapping to commands."""
