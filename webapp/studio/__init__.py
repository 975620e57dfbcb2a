"""AI studio: `routes.bp` (url prefix /studio) and its forms."""
