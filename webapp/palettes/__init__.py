"""Palettes feature: `routes.bp` is the blueprint (/palettes); `cli` holds the `flask palette` command."""
