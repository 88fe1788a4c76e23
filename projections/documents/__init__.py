"""Read-model documents: the incident, its timeline, its action items and its postmortem as
readers are given them (over HTTP or in a browser), built from the read models or replayed
as of a past moment, and the postmortem rendered as Markdown."""
