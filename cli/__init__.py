"""The ``incidents`` command line."""
