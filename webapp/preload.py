"""What a long-lived process imports up front, because the app itself no longer does at start-up.

`create_app()` keeps start-up light (no provider SDK, scikit-learn, queue client or migration
machinery; see tests/unit/test_i18speed_startup.py). A worker is the opposite case: it forks a work
horse per job (RQ) or runs many jobs in one process, so paying 1-3 s of imports once, before
forking, is what makes each job cheap. `worker.py` calls `preload()`; so does the in-process job
executor's first job.
"""

from __future__ import annotations

import contextlib
import importlib

#: Imported before forking, in this order. Missing optional packages are skipped.
HEAVY_MODULES = (
    "numpy",
    "pyvips",  # libvips initialised, no operation run: work horses start their own threads
    "sklearn.cluster",  # palette clustering
    "rq",
    "redis",
    "PIL.ImageFilter",
    "PIL.ImageCms",
    "webapp.imaging.analysis",
    "webapp.imaging.pipeline",
    "webapp.jobs.runner",
    "webapp.jobs.autoformat",
    "webapp.jobs.palette",
    "webapp.jobs.generate",
    "webapp.providers.local_render",  # the offline provider (numpy, fonts)
    "webapp.providers.local_edit",
    "av",  # PyAV loads the bundled FFmpeg libraries: clip jobs
    "webapp.media.animate",
    "webapp.media.probe",
    "webapp.jobs.video",
    "webapp.jobs.video_still",
)


def preload() -> None:
    """Import the provider SDKs and every heavy module jobs use (idempotent, cheap when done)."""
    from webapp.providers import preload_sdks

    preload_sdks()
    for name in HEAVY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
