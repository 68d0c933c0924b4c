"""The contract shared by every reward service and its callers: schemas, client, settings."""
