"""The application layer: use cases without HTTP or a terminal, and the composition root."""
