"""Ephemeral uploads: create_ephemeral end to end, then runway:// URIs as referenceImage."""

from __future__ import annotations

import pytest
import runwayml

from tests.simulator.simtest_helpers import PRESET_VOICE, Sim, face_png, flat_bmp


def test_create_ephemeral_then_avatar(sim: Sim, client, tmp_path) -> None:
    image = tmp_path / "portrait.png"
    image.write_bytes(face_png(64))
    uri = client.uploads.create_ephemeral(file=image).uri
    assert uri.startswith("runway://uploads/") and uri.endswith("/portrait.png")
    avatar = client.avatars.create(
        name="Up", personality="p", reference_image=uri, voice=PRESET_VOICE
    )
    assert avatar.status == "PROCESSING" and avatar.reference_image_uri.startswith(
        sim.base_url + "/_files/"
    )
    sim.advance(2)
    assert client.avatars.retrieve(avatar.id).status == "READY"
    upload = sim.state()["uploads"][0]
    assert upload["size"] == len(face_png(64)) and upload["filename"] == "portrait.png"


def test_upload_tuple_form_and_flat_image(sim: Sim, client) -> None:
    uri = client.uploads.create_ephemeral(file=("flat.bmp", flat_bmp())).uri
    avatar = client.avatars.create(
        name="Flat", personality="p", reference_image=uri, voice=PRESET_VOICE
    )
    sim.advance(2)
    assert (
        client.avatars.retrieve(avatar.id).failure_reason
        == "No face was detected in the reference image."
    )


def test_upload_size_limits(sim: Sim, client) -> None:
    with pytest.raises(runwayml.APIStatusError) as err:
        client.uploads.create_ephemeral(file=("tiny.png", b"x" * 100))
    assert err.value.status_code == 400


def test_runway_uri_expires_after_24_hours(sim: Sim, client) -> None:
    uri = client.uploads.create_ephemeral(file=("p.png", face_png())).uri
    sim.advance(24 * 3600 + 1)
    with pytest.raises(runwayml.BadRequestError):
        client.avatars.create(name="Late", personality="p", reference_image=uri, voice=PRESET_VOICE)


def test_unknown_or_unfinished_upload_is_rejected(sim: Sim, client) -> None:
    started = sim.api("POST", "/v1/uploads", json={"filename": "a.png", "type": "ephemeral"}).json()
    assert set(started) == {"runwayUri", "uploadUrl", "fields"}
    assert started["uploadUrl"].startswith(sim.base_url + "/_uploads/")
    for uri in (
        started["runwayUri"],
        "runway://uploads/6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b/x.png",
    ):
        with pytest.raises(runwayml.BadRequestError):
            client.avatars.create(
                name="No", personality="p", reference_image=uri, voice=PRESET_VOICE
            )
    # Wrong policy field -> 403 from the upload target, like S3.
    bad = sim.http.post(
        started["uploadUrl"],
        data={**started["fields"], "policy": "forged"},
        files={"file": ("a.png", face_png())},
    )
    assert bad.status_code == 403
