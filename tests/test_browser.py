"""JupyterLab 4 and Notebook 7 in headless Chromium: the quickstart runs, the mixer renders,
and moving a gain slider changes the engine's track gain. Screenshots go to artifacts/."""

from __future__ import annotations

import os
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
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (apt-get install chromium; .ci/run does)"
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", work / "quickstart.ipynb")
    peer = OscPeer()
    port, api_port = free_port(), free_port()
    env = {**os.environ, "API_PORT": str(api_port), "OSC_PORT": str(peer.port), "OIDUNA_ASSETS_DIR": str(work / "assets"),
           "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
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


def drive(base: str, api_port: int, url_path: str, shot: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=10)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}{url_path}")
            page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=90_000)
            page.wait_for_timeout(3000)  # the kernel starts
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            mixer = page.locator(".oiduna-mixer")
            mixer.first.wait_for(state="visible", timeout=90_000)
            strips = page.locator(".oiduna-mixer .oiduna-strip")
            assert strips.count() == 3
            assert "kick" in strips.first.inner_text()
            deadline = time.monotonic() + 30
            while api.get("/tracks/kick").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert api.get("/tracks/kick").json()["gain"] == 1.0
            handle = strips.first.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] - 40, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            deadline = time.monotonic() + 15
            while api.get("/tracks/kick").json()["gain"] == 1.0 and time.monotonic() < deadline:
                time.sleep(0.2)
            gain = api.get("/tracks/kick").json()["gain"]
            assert gain < 1.0, "moving the slider did not reach the engine"
            page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / ("failed-" + shot)))
            raise
        finally:
            browser.close()
            api.close()
            for kernel in httpx.get(f"{base}/api/kernels", timeout=10).json():  # a fresh kernel for the next test
                httpx.delete(f"{base}/api/kernels/{kernel['id']}", timeout=30)
            time.sleep(1)


def test_jupyterlab_quickstart_mixer_moves_the_engine(lab):
    base, api_port = lab
    drive(base, api_port, "/lab/tree/quickstart.ipynb", "jupyterlab-quickstart.png")


def test_notebook7_quickstart_mixer_moves_the_engine(lab):
    base, api_port = lab
    drive(base, api_port, "/notebooks/quickstart.ipynb", "notebook7-quickstart.png")
