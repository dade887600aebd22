"""The README shows the demo in both languages, on a desktop and a phone, from images that exist.

tests/browser/test_screenshots.py takes the images (SCREENSHOTS=1); this checks that the README
points at each of them and at nothing missing.
"""

import re
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
IMAGE: Final = re.compile(r"!\[[^\]]+\]\(([^)]+\.png)\)")


def readme_images() -> list[str]:
    return IMAGE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_every_image_the_readme_shows_exists() -> None:
    images = readme_images()
    assert images
    missing = [image for image in images if not (ROOT / image).is_file()]
    assert not missing, missing


def test_the_readme_shows_the_list_and_a_case_on_desktop_and_phone_in_both_languages() -> None:
    shown = {Path(image).stem for image in readme_images()}
    for page in ("case-list", "case-page"):
        for device in ("", "-phone"):
            for language in ("en", "nb"):
                assert f"{page}{device}-{language}" in shown
