"""The Scope panel: connect, load a pipeline (with its status), edit weighted prompts, pick
the transition length, pause, and watch the live video coming back over WebRTC."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anywidget
import ipywidgets as W
import traitlets

from ..scope.music import MusicLink
from ..scope.session import jpeg
from ..scope.visuals import Visuals

VIDEO_ESM = """
export function render({ model, el }) {
  const img = document.createElement("img");
  img.className = "oiduna-scope-video";
  img.style.cssText = "width:100%;max-width:512px;background:#111;min-height:64px;display:block";
  const info = document.createElement("div");
  info.style.cssText = "font-family:monospace;font-size:11px;color:#888";
  el.append(img, info);
  let url = null;
  const show = () => {
    const data = model.get("frame");
    if (!data || !data.byteLength) return;
    const next = URL.createObjectURL(new Blob([data], { type: "image/jpeg" }));
    img.src = next;
    if (url) URL.revokeObjectURL(url);
    url = next;
    info.textContent = `${model.get("frames")} frames, ${model.get("fps").toFixed(1)} fps`;
  };
  model.on("change:frame", show);
  show();
}
"""


class VideoView(anywidget.AnyWidget):
    _esm = VIDEO_ESM
    frame = traitlets.Bytes(b"").tag(sync=True)
    frames = traitlets.Int(0).tag(sync=True)
    fps = traitlets.Float(0.0).tag(sync=True)


class ScopePanel(W.VBox):
    def __init__(self, url: str = "http://localhost:8000", pipeline: str = "passthrough",
                 max_fps: float = 15.0, width: int = 512, engine: Any = None, link_music: bool = True,
                 token: str | None = None) -> None:
        super().__init__()
        self.add_class("oiduna-scope")
        self.max_fps = max_fps
        self.width = width
        self.visuals: Visuals | None = None
        self.link: MusicLink | None = None
        self._engine = engine
        self._link_music = link_music
        self._token = token  # for the API's Scope proxy (url ending in /api/scope)
        self._last_shown = 0.0
        self._shown_times: list[float] = []
        self.url = W.Text(url, description="Scope")
        self.pipeline = W.Text(pipeline, description="pipeline")
        self.connect_button = W.Button(description="load + connect", icon="plug")
        self.status = W.Label("disconnected")
        self.prompt_rows = W.VBox()
        self.add_prompt_button = W.Button(description="+ prompt", layout=W.Layout(width="8em"))
        self.steps = W.IntSlider(4, min=0, max=32, description="transition", tooltip="chunks; 0 = a cut")
        self.apply_button = W.Button(description="apply prompts", icon="paper-plane")
        self.pause = W.ToggleButton(False, description="pause")
        self.video = VideoView()
        self.connect_button.on_click(lambda _: self._spawn(self.connect()))
        self.add_prompt_button.on_click(lambda _: self.add_prompt(""))
        self.apply_button.on_click(lambda _: self.apply_prompts())
        self.pause.observe(lambda ch: self.visuals and self.visuals.update(paused=ch["new"]), "value")
        self.children = [
            W.HBox([self.url, self.pipeline, self.connect_button, self.status]),
            self.prompt_rows,
            W.HBox([self.add_prompt_button, self.steps, self.apply_button, self.pause]),
            self.video,
        ]
        self.add_prompt("a neon city at night, rain", 1.0)
        self._tasks: list[asyncio.Task] = []

    # ---- prompts ----------------------------------------------------------------------------------

    def add_prompt(self, text: str, weight: float = 1.0) -> None:
        row = W.HBox([W.Text(text, placeholder="prompt", layout=W.Layout(width="30em")),
                      W.FloatSlider(weight, min=0.0, max=2.0, step=0.05, description="weight"),
                      W.Button(description="x", layout=W.Layout(width="3em"))])
        row.children[2].on_click(lambda _: self._remove(row))
        self.prompt_rows.children = [*self.prompt_rows.children, row]

    def _remove(self, row: W.HBox) -> None:
        self.prompt_rows.children = [r for r in self.prompt_rows.children if r is not row]
        row.close()

    def prompts(self) -> list[dict[str, Any]]:
        return [{"text": r.children[0].value, "weight": r.children[1].value}
                for r in self.prompt_rows.children if r.children[0].value.strip()]

    def apply_prompts(self) -> None:
        if self.visuals is None or not self.prompts():
            return
        if self.steps.value > 0:
            self.visuals.update(transition={"target_prompts": self.prompts(), "num_steps": self.steps.value})
        else:
            self.visuals.update(prompts=self.prompts())

    # ---- connection ---------------------------------------------------------------------------------

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(self._done)
        self._tasks.append(task)

    def _done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.status.value = f"error: {task.exception()}"

    async def connect(self) -> None:
        if self.visuals is not None:
            await self.visuals.close()
        self.visuals = Visuals(self.url.value, [self.pipeline.value], size=(self.width, self.width),
                               report=lambda m: setattr(self.status, "value", m), token=self._token)
        self.visuals.frame_listeners.append(self._frame)
        self.status.value = "loading the pipeline"
        await self.visuals.load(on_progress=lambda state, waited: setattr(self.status, "value", f"{state} ({waited:.0f} s)"))
        self.visuals.update(prompts=self.prompts(), paused=self.pause.value)
        self.status.value = "connecting"
        await self.visuals.connect()
        self.status.value = "connected"
        engine = self._engine_or_none()
        if engine is not None and self._link_music:
            self.link = MusicLink(engine, self.visuals).start()

    def _engine_or_none(self) -> Any:
        if self._engine is not None:
            return self._engine
        try:
            from ..extension import current

            return current().engine
        except Exception:  # no instrument loaded: visuals without music
            return None

    def _frame(self, frame: Any) -> None:
        now = time.monotonic()
        if now - self._last_shown < 1.0 / self.max_fps:
            return
        self._last_shown = now
        self._shown_times = [t for t in self._shown_times if now - t < 2.0] + [now]
        self.video.frame = jpeg(frame, width=self.width)
        self.video.frames += 1
        if len(self._shown_times) > 1:
            self.video.fps = (len(self._shown_times) - 1) / (self._shown_times[-1] - self._shown_times[0])
        if self.visuals is not None and self.visuals.status != self.status.value:
            self.status.value = self.visuals.status

    async def disconnect(self) -> None:
        if self.link is not None:
            self.link.stop()
            self.link = None
        if self.visuals is not None:
            await self.visuals.close()
            self.visuals = None
        self.status.value = "disconnected"

    def close(self) -> None:
        if self.link is not None:
            self.link.stop()
        if self.visuals is not None:
            try:
                asyncio.ensure_future(self.visuals.close())
            except RuntimeError:  # no loop any more
                pass
        super().close()


def scope(url: str = "http://localhost:8000", pipeline: str = "passthrough", **kw: Any) -> ScopePanel:
    return ScopePanel(url, pipeline, **kw)
