"""Pure domain logic: no I/O, no SQLite, no git, no Textual."""
