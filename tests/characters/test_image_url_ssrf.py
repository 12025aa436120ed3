"""A reference-image URL whose name resolves inside our network is refused (SSRF, hardening #4).

The form refuses it before anything goes upstream, and the studio never fetches it for a card.
Names resolve through a table (`netguard.lookup` replaced: no real DNS); every connection httpx
opens in this process is recorded (any off loopback fails at once), and a listener on 127.0.0.1
counts what reaches it.
"""

from __future__ import annotations

import functools
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpcore
import httpcore._backends.auto
import httpx
import pytest
from gradio_client import Client

from app import build_app
from studio import netguard
from studio.catalog.characters import PRIVATE_IMAGE_URL, CharacterService
from studio.catalog.forms import CharacterForm, FormInvalid
from studio.catalog.media import MediaCache
from tests.characters.support import face_jpeg, studio_on_simulator
from tests.support import LoopbackListener, serve, studio_settings

PUBLIC = "93.184.216.34"
NAMES = {
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC, "10.0.0.7"],
    "images.example.com": [PUBLIC],
}
INTERNAL_NAMES = ["loopback.example.com", "metadata.example.com", "mixed.example.com"]
SOURCE_URL = "https URL"  # the form's "Reference image from" choice for a link


async def table_lookup(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


class Network:
    """The hosts httpx connected to (the Runway SDK, the studio's media fetches and gradio_client
    all go through httpcore's backend); only internal targets matter here."""

    def __init__(self, listener: LoopbackListener) -> None:
        self.listener = listener
        self.connects: list[tuple[str, int]] = []

    def internal_connects(self) -> list[tuple[str, int]]:
        return [(host, port) for host, port in self.connects
                if host == "169.254.169.254" or host == "10.0.0.7" or port == self.listener.port]

    def reached_inside(self) -> bool:
        return bool(self.internal_connects()) or self.listener.accepted > 0


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    listener = LoopbackListener()
    recorder = Network(listener)
    real_connect = httpcore._backends.auto.AutoBackend.connect_tcp

    async def recording_connect(backend, host, port, **kwargs):
        recorder.connects.append((host, port))
        if host != "127.0.0.1":  # nothing leaves the machine (a public name's card, say)
            raise httpcore.ConnectError(f"test network: {host} is out of reach")
        return await real_connect(backend, host, port, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(netguard, "lookup", table_lookup)
        patch.setattr(httpcore._backends.auto.AutoBackend, "connect_tcp", recording_connect)
        yield recorder
    listener.close()


@pytest.fixture
def fresh_network(network) -> Network:
    network.connects.clear()
    return network


def image_url(host: str, network: Network) -> str:
    return f"https://{host}:{network.listener.port}/portrait.jpg"


def url_form(url: str) -> CharacterForm:
    return CharacterForm(name="Ava", personality="A friendly product guide.", voice="preset:clara",
                         image_url=url)


# -- The form, through the Gradio app's HTTP API on a live loopback server ------------------

@pytest.fixture(scope="module")
def live(network) -> Iterator[tuple[Client, httpx.Client]]:
    with tempfile.TemporaryDirectory() as data:
        app = build_app(studio_settings(Path(data)))
        with serve(app) as url, httpx.Client(base_url=app.state.studio.upstream.base_url) as sim:
            client = Client(url, verbose=False)
            try:
                yield client, sim
            finally:
                client.close()  # its heartbeat stream would hold the server's shutdown open


def upstream_requests(sim: httpx.Client) -> int:
    return sum(sim.get("/_simulator/state").json()["requests"].values())


def save_character(client: Client, url: str) -> tuple[str, str]:
    """Submit the create form with an image URL: (the image field's error, everything shown)."""
    outputs = client.predict(SOURCE_URL, url, True, "Ava", "preset:clara",
                             "A friendly product guide.", "", [], "optimize",
                             api_name="/save_character")
    texts = [shown_text(output) for output in outputs]
    return texts[0], " ".join(texts)


def shown_text(output) -> str:
    """The text of an output (an update dict for the error boxes), Markdown escapes removed."""
    value = output.get("value") if isinstance(output, dict) else output
    return str(value or "").replace("\\", "")


@pytest.mark.parametrize("host", INTERNAL_NAMES)
def test_the_form_refuses_an_image_url_resolving_inside(host, live, fresh_network):
    client, sim = live
    before = upstream_requests(sim)
    image_error, shown = save_character(client, image_url(host, fresh_network))
    assert PRIVATE_IMAGE_URL in image_error
    assert "Nothing was sent" in shown
    assert upstream_requests(sim) == before
    assert not fresh_network.reached_inside()


def test_the_form_accepts_a_public_image_url(live, fresh_network):
    client, sim = live
    before = upstream_requests(sim)
    image_error, _ = save_character(client, "https://images.example.com/portrait.jpg")
    assert not image_error
    assert upstream_requests(sim) > before  # the character was created
    assert not fresh_network.reached_inside()


# -- The service, on the embedded simulator ------------------------------------------------------

@pytest.fixture
def studio(tmp_path, network) -> Iterator:
    with studio_on_simulator(tmp_path) as studio:
        studio.characters = CharacterService(studio.studio.gateway, media=studio.studio.media)
        yield studio


@pytest.mark.parametrize("host", INTERNAL_NAMES)
def test_create_and_update_refuse_before_any_request(host, studio, fresh_network):
    before = studio.requests()
    form = url_form(image_url(host, fresh_network))
    calls = [(studio.characters.create_character, (form,)),
             (studio.characters.update_character, (str(uuid.uuid4()), form))]
    for call, args in calls:
        with pytest.raises(FormInvalid) as caught:
            studio.run(call, *args)
        assert caught.value.errors == {"image_url": PRIVATE_IMAGE_URL}
    assert studio.requests() == before
    assert not fresh_network.reached_inside()


def test_allow_private_urls_lets_such_a_name_through(tmp_path, network):
    with studio_on_simulator(tmp_path, STUDIO_ALLOW_PRIVATE_URLS="1") as studio:
        service = CharacterService(studio.studio.gateway, media=studio.studio.media)
        url = image_url("loopback.example.com", network)
        avatar = studio.run(service.create_character, url_form(url))
        assert avatar["reference_image_uri"] == url


# -- Fetching for the cards and the image route ----------------------------------------------

@pytest.mark.parametrize("host", INTERNAL_NAMES)
def test_media_cache_refuses_without_connecting(host, studio, fresh_network):
    url = image_url(host, fresh_network)
    assert studio.run(MediaCache().get, url) is None
    assert studio.run(studio.studio.media.get, url) is None
    assert studio.run(studio.studio.media.thumbnail, url) is None
    assert not fresh_network.reached_inside()


@pytest.mark.parametrize("host", INTERNAL_NAMES)
def test_the_image_route_refuses_a_stored_url_resolving_inside(host, studio, fresh_network):
    """A character created elsewhere (straight through the API) with such a URL: no fetch."""
    create = functools.partial(studio.studio.gateway.create_avatar, name="Ava", personality="Hi.",
                               reference_image=image_url(host, fresh_network),
                               voice={"type": "runway-live-preset", "preset_id": "clara"})
    avatar = studio.run(create)
    answer = studio.client.get(f"/api/avatars/{avatar['id']}/image")
    assert answer.status_code == 502 and answer.json()["code"] == "image_unavailable"
    assert not fresh_network.reached_inside()


def test_the_simulators_own_images_are_still_served(studio, fresh_network):
    """The embedded simulator is on loopback: the studio's media cache trusts its origin."""
    form = url_form("")
    form.image_data, form.image_filename = face_jpeg(), "ava.jpg"
    avatar = studio.run(studio.characters.create_character, form)
    answer = studio.client.get(f"/api/avatars/{avatar['id']}/image")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/")
    assert not fresh_network.reached_inside()
