"""One hotfix history across bastions, carried by a git remote (docs/SYNC.md)."""
