"""hotfix-tui: a keyboard-driven console for running hotfixes during production incidents."""

__version__ = "0.1.0"
