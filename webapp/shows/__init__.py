"""Shows: the events a producer makes images for (routes in routes.py, forms in forms.py)."""
