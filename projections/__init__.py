"""Read models rebuilt from the log: one module per projection, plus the runner."""
