"""Text from upstream stays text: a failure reason full of HTML / Markdown reads literally in the
Sessions details and in a toast (nothing runs, no image, no link), and a character named like a
spreadsheet formula is exported to CSV as text."""

from __future__ import annotations

import base64
import csv
import time

import httpx
import pandas as pd
import pytest
from gradio_client import Client

from app import build_app
from studio.history import NUMBER_COLUMNS, TABLE_COLUMNS, spreadsheet_safe
from tests.characters.support import face_jpeg
from tests.support import launch_chromium, serve, studio_settings

SIM_HEADERS = {"Authorization": f"Bearer key_{'ab' * 64}", "X-Runway-Version": "2024-11-06"}
PAYLOAD = '<img src=x onerror="window.__xss=1"> **bold** [link](javascript:alert(1))'
FORMULA_NAME = '=HYPERLINK("http://x","y")'


def as_exported(row: dict) -> dict:
    """A table row as a spreadsheet should read it: empty for nothing, text starting like a
    formula behind a quote, numbers as numbers."""
    def cell(column, value):
        if value is None or value == "":
            return None
        if column in NUMBER_COLUMNS:
            return float(value)
        text = str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    return {column: cell(column, value) for column, value in row.items()}


def csv_cells(row: dict) -> dict:
    return {column: (float(value) if column in NUMBER_COLUMNS else value) if value else None
            for column, value in row.items()}


def test_spreadsheet_safe_quotes_formula_text_and_keeps_numbers():
    frame = pd.DataFrame({
        "avatar": [FORMULA_NAME, "+1 555", "-rm", "@SUM(A1)", "\tTab", "\rReturn", "Mina", None],
        "to READY (s)": [-1.5, 2.0, None, 0.0, 1.0, 3.0, 4.0, 5.0],
    })
    safe = spreadsheet_safe(frame)
    assert safe["avatar"].tolist()[:7] == [
        "'" + FORMULA_NAME, "'+1 555", "'-rm", "'@SUM(A1)", "'\tTab", "'\rReturn", "Mina"]
    assert pd.isna(safe["avatar"].iloc[7])
    assert safe["to READY (s)"].tolist()[:2] == [-1.5, 2.0]  # a negative number is still a number
    assert frame["avatar"].iloc[0] == FORMULA_NAME  # the table itself is left alone


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A studio with a call that failed with markup in Runway's reason, and a conversation (made
    on the account elsewhere) with a character named like a formula."""
    settings = studio_settings(tmp_path_factory.mktemp("text-safety"), STUDIO_REFRESH_INTERVAL="0.3",
                               STUDIO_HISTORY_TTL="1", STUDIO_SIM_READY_DELAY="5",
                               STUDIO_SIM_AVATAR_DELAY="0.2")
    app = build_app(settings)
    studio = app.state.studio
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http, \
            httpx.Client(base_url=studio.upstream.base_url, headers=SIM_HEADERS, timeout=10) as sim:
        failed = http.post("/api/avatar/session", json={"avatarId": "music-superstar"}).json()["sessionId"]
        answer = sim.post(f"/_simulator/sessions/{failed}/fail",
                          json={"failureCode": "INTERNAL", "failure": PAYLOAD})
        assert answer.status_code == 200, answer.text
        avatar = sim.post("/v1/avatars", json={
            "name": FORMULA_NAME, "personality": "A guide.",
            "voice": {"type": "runway-live-preset", "presetId": "clara"},
            "referenceImage": "data:image/jpeg;base64," + base64.b64encode(face_jpeg()).decode()}).json()
        deadline = time.monotonic() + 15
        while sim.get(f"/v1/avatars/{avatar['id']}").json()["status"] != "READY":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        elsewhere = sim.post("/v1/realtime_sessions", json={
            "model": "gwm1_avatars", "avatar": {"type": "custom", "avatarId": avatar["id"]}})
        assert elsewhere.status_code == 200, elsewhere.text
        while (studio.ledger.get(failed) or {}).get("status") != "FAILED":
            assert time.monotonic() < deadline + 15, "the refresher never saw the failure"
            time.sleep(0.1)
        yield url, sim, failed, elsewhere.json()["id"]


def test_the_csv_export_shows_a_formula_name_as_text(live):
    url, _, failed, elsewhere = live
    client = Client(url, verbose=False)
    try:
        deadline = time.monotonic() + 15
        while True:
            table = client.predict([], "", None, None, "", api_name="/sessions_table")[0]
            if {row[-1] for row in table["data"]} >= {failed, elsewhere}:
                break
            assert time.monotonic() < deadline, table["data"]
            time.sleep(0.3)
        exported = client.predict(table, api_name="/export_csv")  # an update: {"value": path, ...}
    finally:
        client.close()
    with open(exported["value"], newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(TABLE_COLUMNS)
        rows = {row["id"]: row for row in reader}
    # Every cell of every row shown, in the CSV: as text, numbers as numbers, formulas quoted.
    shown = [dict(zip(table["headers"], values)) for values in table["data"]]
    assert [csv_cells(rows[row["id"]]) for row in shown] == [as_exported(row) for row in shown]
    assert rows[elsewhere]["avatar"] == "'" + FORMULA_NAME
    assert rows[failed]["failure"].startswith("INTERNAL: <img")  # not a formula: left as it is
    for row in rows.values():
        for column in ("to READY (s)", "to 1st frame (s)"):
            assert row[column] == "" or float(row[column]) >= 0


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_upstream_markup_reads_literally_in_the_details_and_in_a_toast(live):
    from playwright.sync_api import sync_playwright

    url, sim, _, _ = live
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(15_000)
            page.goto(url)
            page.get_by_role("tab", name="Sessions").click()
            page.locator("#sessions-table [data-testid^='cell-']", has_text="failed").first.click()
            heading = page.locator("#details-heading")
            heading.get_by_text("INTERNAL").wait_for()
            assert f"INTERNAL: {PAYLOAD}" in heading.inner_text()
            assert heading.locator("img, a").count() == 0
            assert heading.locator("strong", has_text="bold").count() == 0

            # Runway refuses to list the characters, with the same markup in its error text.
            fault = sim.post("/_simulator/faults", json={
                "method": "GET", "path": "/v1/avatars", "status": 403, "body": {"error": PAYLOAD},
                "count": 50})
            assert fault.status_code == 200, fault.text
            try:
                page.get_by_role("tab", name="Call").click()
                toast = page.locator("[data-testid='toast-body']", has_text="Could not list your characters")
                toast.wait_for()
                assert PAYLOAD in toast.inner_text()
                assert toast.locator("img, a, strong").count() == 0
            finally:
                sim.delete("/_simulator/faults")
            assert page.evaluate("window.__xss") is None
        finally:
            browser.close()
