// A track's level light: a bar as high as the track's level that lights up each time the
// track sounds ("count" goes up) and fades; grey while the track is silent (muted, or
// another track is soloed).
function render({ model, el }) {
  const meter = document.createElement("div");
  meter.className = "oiduna-light";
  const fill = document.createElement("div");
  fill.className = "oiduna-light-fill";
  meter.appendChild(fill);
  el.appendChild(meter);
  const level = () => {
    fill.style.height = `${Math.round(100 * Math.max(0.08, Math.min(1, model.get("level"))))}%`;
    meter.classList.toggle("silent", !model.get("audible"));
  };
  model.on("change:level", level);
  model.on("change:audible", level);
  model.on("change:count", () => {
    fill.classList.remove("on");
    void fill.offsetWidth; // restart the fade
    fill.classList.add("on");
  });
  level();
  keepKeys(el, ".oiduna-strip");
}

// Notebook 7 matches its shortcuts before a focused slider sees the key (ArrowRight jumps to
// the next heading there); Lumino skips an element marked data-lm-suppress-shortcuts, so the
// arrow keys stay with the strip's sliders. The strip holds this light once it is shown.
function keepKeys(el, selector, tries = 120) {
  const box = el.closest(selector);
  // Lumino looks from the focused element up, so the mark goes on the controls themselves.
  const controls = box ? box.querySelectorAll(".noUi-handle, button") : [];
  for (const c of controls) c.setAttribute("data-lm-suppress-shortcuts", "true");
  const shown = box && box.querySelector(".noUi-handle");
  if (!shown && tries > 0) requestAnimationFrame(() => keepKeys(el, selector, tries - 1));
}

export default { render };
