"""HTTP API, command handling, settings, logging and the command line."""
