"""`flask --app webapp autoformat` warns when an input is too small for a format, and still makes it."""

from __future__ import annotations

import subprocess

from PIL import Image

from tests.integration.test_cli import FLASK, ROOT, _env


def test_cli_warns_when_an_input_is_enlarged_more_than_twice(tmp_path, photo_jpeg):
    Image.new("RGB", (8, 8), (0, 160, 60)).save(tmp_path / "tiny.png")
    (tmp_path / "big.jpg").write_bytes(photo_jpeg)
    proc = subprocess.run(
        [
            *FLASK,
            "autoformat",
            str(tmp_path / "tiny.png"),
            str(tmp_path / "big.jpg"),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr  # a warning, not a refusal
    assert len(list((tmp_path / "o").iterdir())) == 6
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3 and all("tiny.png" in line for line in warnings)
    assert (
        "This image is 8×8 px; the poster is 1200×1800, so the artwork is enlarged 139× and will look soft. "
        "Upload at least 556×556 px for a sharp poster."
    ) in proc.stderr
