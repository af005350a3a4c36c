// Shared by the views that hold sliders (prepended to light.js and pianoroll.js by lights.py).
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
