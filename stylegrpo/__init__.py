"""The `stylegrpo` command: every command of the services, the shared client and the trainer."""
