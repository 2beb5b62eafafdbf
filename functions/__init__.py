"""sitrep: turns a Cloud Monitoring alert into an incident card, in Slack and the tracking issue."""
