"""JupyterLab 4 and Notebook 7 in headless Chromium: the quickstart runs, the performance view
renders (transport, piano roll with a moving playhead, mixer), its sliders are wide enough to
play and move the engine by mouse and by keyboard, mute and solo show, and a change over HTTP
shows in the view. ReDoc and Swagger UI load nothing from the network.

Screenshots go to artifacts/; with OIDUNA_DOCS_IMAGES=1 the ones the README shows are also
written to docs/images/ (that is how those pictures are made).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .osc_peer import OscPeer
from .server_harness import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
DOC_IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TRACKS = ["kick", "hats", "snare", "bass"]  # the quickstart's, in order
MIN_SLIDER_PX = 150
KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel && kernel.status === "idle" && document.querySelector(".jp-Notebook");
}"""


def save_shot(image: bytes, name: str, for_docs: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(image)
    if for_docs and os.environ.get("OIDUNA_DOCS_IMAGES") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        (DOC_IMAGES / name).write_bytes(image)


def until(condition, what: str, timeout: float = 30.0):
    """Wait for a state the app reaches (delivery, not timing: the bound is only generous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (apt-get install chromium; .ci/run does)"
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", work / "quickstart.ipynb")
    news = work / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no "get news?" popup over the screenshots
    peer = OscPeer()
    port, api_port = free_port(), free_port()
    env = {**os.environ, "API_PORT": str(api_port), "OSC_PORT": str(peer.port), "OIDUNA_ASSETS_DIR": str(work / "assets"),
           "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
           "OIDUNA_MIDI_API": "jack", "JACK_DEFAULT_SERVER": "no-such-server"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=",
         "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={work}",
         "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
         "--ServerApp.ip=127.0.0.1", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/api/status", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "JupyterLab did not start"
        time.sleep(0.5)
    yield base, api_port
    server.terminate()
    server.wait(timeout=30)
    peer.close()


def slider_width(strip, index: int) -> float:
    """The draggable track of a strip's slider (0: gain, 1: pan), in px."""
    return strip.locator(".noUi-target").nth(index).bounding_box()["width"]


def drive(base: str, api_port: int, url_path: str, app: str) -> None:
    from playwright.sync_api import sync_playwright

    api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}{url_path}")
            page.wait_for_function(KERNEL_IDLE, timeout=90_000)  # the notebook is open and its kernel ready
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            view = page.locator(".oiduna-perform")
            view.first.wait_for(state="visible", timeout=90_000)
            strips = view.locator(".oiduna-strip")
            until(lambda: strips.count() == len(TRACKS), "a strip per track")
            assert [strips.nth(i).locator(".oiduna-name").inner_text() for i in range(len(TRACKS))] == TRACKS
            # the notebook ran to its end (it stops the music); play again over HTTP
            page.get_by_text("'stopped'").first.wait_for(timeout=90_000)
            api.post("/playback/start")
            until(lambda: "playing" in view.locator(".oiduna-transport .widget-label").first.inner_text(),
                  "the transport shows that an HTTP client started it")

            # the piano roll: a lane per track with its notes, the playhead moving with the music
            roll = view.locator(".oiduna-roll")
            lanes = roll.locator(".oiduna-lane")
            until(lambda: lanes.count() == len(TRACKS), "a lane per track")
            assert roll.locator(".oiduna-note[data-track='kick']").count() == 4  # bd*4
            assert roll.locator(".oiduna-note[data-track='hats']").count() == 4  # [~ hh]*4
            playhead = roll.locator(".oiduna-playhead")
            first = playhead.get_attribute("data-step")
            until(lambda: playhead.get_attribute("data-step") != first, "the playhead moves")
            label = roll.locator(".oiduna-position").inner_text()
            assert re.fullmatch(r"\d+\.[1-4]\.[1-4]", label), label  # bar.beat.step, from 1

            # sliders wide enough to play, moved by mouse ...
            kick, hats, snare = strips.nth(0), strips.nth(1), strips.nth(2)
            assert slider_width(kick, 0) >= MIN_SLIDER_PX and slider_width(kick, 1) >= MIN_SLIDER_PX
            assert api.get("/tracks/kick").json()["gain"] == 1.0
            handle = kick.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] - 40, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            until(lambda: api.get("/tracks/kick").json()["gain"] < 1.0, "dragging the gain reaches the engine")
            # ... and by keyboard: Tab-focusable handles, arrows move them
            pan = hats.locator(".noUi-handle").nth(1)
            pan.focus()
            for _ in range(5):
                page.keyboard.press("ArrowRight")
            until(lambda: api.get("/tracks/hats").json()["pan"] == 0.45, "the arrow keys move the pan")
            bpm = view.locator(".oiduna-transport .noUi-handle").first
            bpm.focus()
            page.keyboard.press("ArrowRight")  # one step of 0.5
            until(lambda: api.get("/playback/status").json()["bpm"] == 124.5, "the arrow keys move the tempo")

            # mute from the view shows, and reaches the engine; solo from HTTP shows in the view
            snare.locator(".oiduna-flag").first.click()
            until(lambda: api.get("/tracks/snare").json()["muted"] is True, "the mute button mutes")
            until(lambda: "oiduna-muted" in (snare.get_attribute("class") or ""), "a muted strip shows it")
            assert "mod-danger" in (snare.locator(".oiduna-flag").first.get_attribute("class") or "")
            api.post("/tracks/bass/solo", json={"solo": True})
            bass = strips.nth(3)
            until(lambda: "oiduna-solo" in (bass.get_attribute("class") or ""), "an HTTP solo shows in the view")
            until(lambda: "mod-warning" in (bass.locator(".oiduna-flag").nth(1).get_attribute("class") or ""),
                  "the solo button lights up")
            until(lambda: "oiduna-silent" in (kick.get_attribute("class") or ""), "the others are silent")
            until(lambda: roll.locator(".oiduna-lane.solo[data-track='bass']").count() == 1, "the roll shows the solo")
            api.post("/tracks/bass/solo", json={"solo": False})
            until(lambda: "oiduna-solo" not in (bass.get_attribute("class") or ""), "unsolo shows")

            view.first.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            save_shot(view.first.screenshot(), f"perform-{app}.png", for_docs=True)
            save_shot(page.screenshot(full_page=False), f"{app}-quickstart.png")
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failed-{app}-quickstart.png"))
            raise
        finally:
            browser.close()
            api.close()
            for kernel in httpx.get(f"{base}/api/kernels", timeout=10).json():  # a fresh kernel for the next test
                httpx.delete(f"{base}/api/kernels/{kernel['id']}", timeout=30)
            time.sleep(1)


def test_jupyterlab_performance_view(lab):
    base, api_port = lab
    drive(base, api_port, "/lab/tree/quickstart.ipynb", "jupyterlab")


def test_notebook7_performance_view(lab):
    base, api_port = lab
    drive(base, api_port, "/notebooks/quickstart.ipynb", "notebook7")


@pytest.mark.parametrize("page_path", ["/redoc", "/docs"])
def test_the_api_doc_pages_load_nothing_from_the_network(api, page_path):
    """ReDoc's bundle asks its CDN for a logo; the page's policy stops it before it leaves."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            reached, refused = [], []
            page.route("**/*", lambda route: (reached.append(route.request.url), route.continue_()))
            page.on("requestfailed", lambda request: refused.append((request.url, request.failure)))
            page.goto(api.url + page_path)
            page.get_by_text("Oiduna API").first.wait_for(timeout=30_000)  # the page rendered the document
            page.wait_for_load_state("networkidle")
        finally:
            browser.close()
    assert reached and all(url.startswith(api.url) for url in reached), reached
    assert all(reason == "csp" for url, reason in refused if not url.startswith(api.url)), refused


def readme_pattern() -> str:
    """The pattern the README shows beside its picture (the Python line just before it)."""
    readme = (ROOT / "README.md").read_text()
    before = readme.split("](docs/images/pattern-roll.png)")[0]
    return re.findall(r"```python\n(.*?)```", before, re.S)[-1].strip()


def test_the_readme_pattern_picture():
    """The README's pattern, drawn as it shows in a notebook (its SVG), in Chromium."""
    from playwright.sync_api import sync_playwright

    words: dict = {}
    exec("from oiduna_nb.dsl import *", words)  # the README's words
    svg = eval(readme_pattern(), words)._repr_svg_()  # noqa: S307 - the README's own code
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(device_scale_factor=1.5)
            page.set_content(f"<html><body style='margin:8px;background:#fff'>{svg}</body></html>")
            picture = page.locator("svg").first
            assert picture.locator("rect.event").count() > 20  # every note drawn
            save_shot(picture.screenshot(), "pattern-roll.png", for_docs=True)
        finally:
            browser.close()
