"""/jobs says what each job worked on: the image's name and thumbnail, or the prompt."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("app")


def test_jobs_list_names_files_and_prompts(app, client, login, photo_jpeg, run_jobs):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload

    uid, _ = login()
    with app.app_context():
        user = db.session.get(User, uid)
        asset = ingest_upload(user, photo_jpeg, "Spring Gala.jpg").asset
        job_service.start(user, "autoformat", {"asset_id": asset.id, "output": "jpeg", "formats": ["square"]})
        asset_id = asset.id
    run_jobs()
    html = client.get("/jobs").get_data(as_text=True)
    assert "Auto-format" in html and "Spring Gala.jpg" in html
    assert (
        f"/assets/{asset_id}/thumb" in html or f"asset_id={asset_id}" in html or "job-subject__thumb" in html
    )
