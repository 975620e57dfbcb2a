"""One calm wording for a job that runs without a separate job queue (no Redis, or Redis not answering).

There used to be two for the same state: "The job queue was not available, so this runs in the web process."
(which reads like an error) and "No job queue is configured, so this runs in the web process.", and the
job's stage said "(the job queue is not available)". Producers now see one sentence, from one partial.
"""

from __future__ import annotations

from pathlib import Path

from webapp.services import jobs

ROOT = Path(__file__).resolve().parents[2]
WORDING = "No separate job queue is in use, so this runs in the web app itself."
OLD = (
    "job queue was not available",
    "No job queue is configured, so this runs",
    "the job queue is not available",
    "Waiting to run in the web process",
    "Ran in the web process",
)


def _producer_sources() -> list[Path]:
    return [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("webapp", "services").rglob("*.py")]


def test_the_old_wordings_are_gone_from_every_producer_template_and_service():
    for path in _producer_sources():
        text = path.read_text(encoding="utf-8")
        for phrase in OLD:
            assert phrase not in text, f"{path.relative_to(ROOT)} still says {phrase!r}"


def test_the_one_wording_lives_in_one_partial_that_every_job_view_includes():
    partial = ROOT / "templates" / "_partials" / "_no_queue.html"
    assert WORDING in partial.read_text(encoding="utf-8")
    pages = ROOT.joinpath("templates").rglob("*.html")
    holders = [p for p in pages if WORDING in p.read_text(encoding="utf-8")]
    assert holders == [partial]
    for view in ("_partials/_job.html", "studio/_results.html"):
        source = (ROOT / "templates" / view).read_text(encoding="utf-8")
        assert '{% include "_partials/_no_queue.html" %}' in source


def test_job_stages_use_the_same_calm_words(app):
    assert jobs.STAGE_WAITING_IN_APP == "Waiting to run in the web app"
    assert jobs.STAGE_RUNNING_IN_APP == "Running in the web app"
    with app.test_request_context():
        from flask import render_template

        html = render_template("_partials/_no_queue.html")
    assert WORDING in html and "error" not in html.lower() and "not available" not in html
