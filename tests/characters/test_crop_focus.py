"""A crop the user can move: the focus point places the 1088×704 box where the picture has spare
pixels (a portrait keeps its hair with a top focus, its chin with a bottom one)."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from studio.catalog import images
from studio.catalog.characters import CharacterService
from studio.catalog.forms import CharacterForm


def banded_portrait(width: int = 800, height: int = 1200) -> bytes:
    """A tall PNG: a red band at the top (hair), green in the middle, a blue band at the bottom (chin)."""
    picture = Image.new("RGB", (width, height), (0, 200, 0))
    picture.paste((220, 0, 0), (0, 0, width, height // 6))
    picture.paste((0, 0, 220), (0, 5 * height // 6, width, height))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def rows(jpeg: bytes) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The colour of the first and the last row's middle pixel."""
    with Image.open(io.BytesIO(jpeg)) as picture:
        rgb = picture.convert("RGB")
        return rgb.getpixel((rgb.width // 2, 2)), rgb.getpixel((rgb.width // 2, rgb.height - 3))


def reddish(pixel) -> bool:
    return pixel[0] > 150 and pixel[1] < 80 and pixel[2] < 80


def blueish(pixel) -> bool:
    return pixel[2] > 150 and pixel[0] < 80 and pixel[1] < 80


def test_the_default_is_still_the_centre():
    assert images.crop_box(1000, 1000) == images.crop_box(1000, 1000, focus=(0.5, 0.5))
    box_h = round(800 * 704 / 1088)
    assert images.crop_box(800, 1200) == (0, (1200 - box_h) // 2, 800, (1200 - box_h) // 2 + box_h)


def test_a_top_focus_keeps_the_top_rows_and_a_bottom_focus_the_bottom_ones():
    portrait = banded_portrait()
    assert images.crop_box(800, 1200, focus=(0.5, 0.0))[1] == 0
    assert images.crop_box(800, 1200, focus=(0.5, 1.0))[3] == 1200
    top_first, _ = rows(images.centre_crop(portrait, focus=(0.5, 0.0)))
    _, bottom_last = rows(images.centre_crop(portrait, focus=(0.5, 1.0)))
    centre_first, centre_last = rows(images.centre_crop(portrait))
    assert reddish(top_first) and blueish(bottom_last)
    assert not reddish(centre_first) and not blueish(centre_last)  # the centre loses both


def test_the_focus_moves_sideways_on_a_wide_picture_and_is_clamped():
    assert images.crop_box(3000, 704, focus=(0.0, 0.5))[0] == 0
    assert images.crop_box(3000, 704, focus=(1.0, 0.5))[2] == 3000
    assert images.crop_box(3000, 704, focus=(7.0, -3.0)) == images.crop_box(3000, 704, focus=(1.0, 0.0))


def test_the_preview_and_the_upload_use_the_same_focus():
    portrait = banded_portrait()
    preview_first, _ = rows(images.crop_preview(portrait, focus=(0.5, 0.0)))
    _, upload = images.to_upload(portrait, "me.png", crop=True, focus=(0.5, 0.0))
    upload_first, _ = rows(upload)
    assert reddish(preview_first) and reddish(upload_first)


def test_the_character_form_sends_its_focus():
    sent: dict = {}

    class Gateway:
        async def upload(self, filename, data):
            sent["data"] = data
            return "runway://upload"

    form = CharacterForm(image_data=banded_portrait(), image_filename="me.png", crop=True, crop_focus=(0.5, 0.0))
    prepared = asyncio.run(CharacterService(Gateway())._prepare_image(form))  # type: ignore[arg-type]
    assert prepared.uri == "runway://upload"
    assert reddish(rows(sent["data"])[0])
