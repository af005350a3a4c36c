"""Small anywidget views that need to animate in the browser: a trigger light and the
step display. Python only bumps counters and numbers; the flash is drawn by the browser."""

from __future__ import annotations

import anywidget
import traitlets

LIGHT_ESM = """
export function render({ model, el }) {
  const dot = document.createElement("span");
  dot.className = "oiduna-light";
  dot.style.cssText = "display:inline-block;width:14px;height:14px;border-radius:50%;" +
    "background:#333;transition:background 120ms ease-out;vertical-align:middle";
  el.appendChild(dot);
  model.on("change:count", () => {
    dot.style.transition = "none";
    dot.style.background = model.get("color");
    requestAnimationFrame(() => requestAnimationFrame(() => {
      dot.style.transition = "background 180ms ease-out";
      dot.style.background = "#333";
    }));
  });
}
"""

STEPS_ESM = """
export function render({ model, el }) {
  const wrap = document.createElement("div");
  wrap.style.cssText = "display:flex;gap:3px;align-items:center;font-family:monospace";
  const label = document.createElement("span");
  label.className = "oiduna-position";
  label.style.minWidth = "15em";
  wrap.appendChild(label);
  const cells = [];
  for (let i = 0; i < 16; i++) {
    const c = document.createElement("span");
    c.style.cssText = "display:inline-block;width:12px;height:12px;border-radius:2px;background:" +
      (i % 4 === 0 ? "#555" : "#333");
    cells.push(c);
    wrap.appendChild(c);
  }
  el.appendChild(wrap);
  const draw = () => {
    const step = model.get("step");
    label.textContent = `bar ${model.get("bar")}  beat ${model.get("beat")}  step ${step}`;
    cells.forEach((c, i) => {
      c.style.background = i === step % 16 ? "#f0a030" : (i % 4 === 0 ? "#555" : "#333");
    });
  };
  for (const key of ["step", "beat", "bar"]) model.on(`change:${key}`, draw);
  draw();
}
"""


class TriggerLight(anywidget.AnyWidget):
    """Flashes each time ``count`` goes up."""

    _esm = LIGHT_ESM
    count = traitlets.Int(0).tag(sync=True)
    color = traitlets.Unicode("#4fd16b").tag(sync=True)


class StepDisplay(anywidget.AnyWidget):
    """Bar, beat and step, with a 16-step strip lighting the current step."""

    _esm = STEPS_ESM
    step = traitlets.Int(0).tag(sync=True)
    beat = traitlets.Int(0).tag(sync=True)
    bar = traitlets.Int(0).tag(sync=True)
