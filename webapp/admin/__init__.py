"""Admin feature: `routes.bp` holds the blueprint; importing `providers` registers its views on it."""

from webapp.admin import (
    describe,  # noqa: F401  (registers /admin/providers/describe)
    formats_admin,  # noqa: F401  (registers /admin/formats)
    providers,  # noqa: F401  (registers /admin/providers, /admin/audit, /admin/usage)
    templates_admin,  # noqa: F401  (registers /admin/templates)
)
