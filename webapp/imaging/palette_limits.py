"""Palette constants the forms, CLI and services need without the numpy-based extraction (issue 18).

Kept apart from ``palette``/``palette_roles`` so building the app (which imports the forms) does not
import numpy; ``palette`` and ``palette_roles`` re-export these names.
"""

from __future__ import annotations

#: Number of colours a producer may ask for; 6 is the default (enough for a theme plus two spares).
MIN_COLORS, MAX_COLORS, DEFAULT_COLORS = 5, 8, 6
ROLES = ("primary", "secondary", "accent", "background", "text")
