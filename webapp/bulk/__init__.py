"""Bulk generation: prompts in, a gallery out, publish the best (routes in `routes.py`)."""
