"""Subcommands of the `webvi` command that need more than a few lines (host side only)."""
