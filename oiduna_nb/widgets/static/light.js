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

export default { render };
