"""Pure incident domain: events, commands, the Incident aggregate and its errors. No I/O."""
