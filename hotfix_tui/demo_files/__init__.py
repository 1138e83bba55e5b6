"""Source files of the demo service, written into the sandbox repository."""
