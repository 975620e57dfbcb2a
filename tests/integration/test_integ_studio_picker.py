"""Studio edit picker: 40+ images, named; `/studio?asset=ID` selects an older one; the library's
asset page links to it ("Edit in studio")."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_shows import _asset

pytestmark = pytest.mark.usefixtures("app")


def test_edit_picker_offers_older_images_by_name(app, client, login):
    uid, _ = login()
    ids = [_asset(app, uid, "original", (800, 600)) for _ in range(50)]
    oldest = ids[0]
    html = client.get("/studio").get_data(as_text=True)
    picked = re.findall(r'name="source_asset" value="(\d+)"', html)
    assert len(picked) == 48 and str(ids[-1]) in picked and str(oldest) not in picked
    assert 'class="pick__name"' in html

    html = client.get(f"/studio?asset={oldest}").get_data(as_text=True)
    assert re.search(rf'name="source_asset" value="{oldest}" checked', html)
    page = client.get(f"/assets/{oldest}").get_data(as_text=True)
    assert f"/studio?asset={oldest}" in page and "Edit in studio" in page
