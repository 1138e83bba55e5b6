"""The console: a Textual app over the services layer."""
