// The piano roll of what plays: one lane per track, one row per sound or note, the 16 steps
// of the cycle playing, and a playhead. Python sends the lanes once per cycle ("roll") and a
// small "position" per step; everything is drawn here (widgets/roll.py describes the data).
const NS = "http://www.w3.org/2000/svg";
const WIDTH = 960; // viewBox units; the picture scales to the output's width
const LABEL = 150; // the lane names
const ROW = 11; // height of a row of notes
const MIN_LANE = 34; // room for the name and its tag
const GAP = 4;
const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

function make(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  el.classList.add("oiduna-roll");
  const head = document.createElement("div");
  head.className = "oiduna-roll-head";
  const counter = document.createElement("span");
  counter.className = "oiduna-position";
  const caption = document.createElement("span");
  caption.className = "oiduna-caption";
  head.append(counter, caption);
  const svg = make("svg", { class: "oiduna-roll-svg", viewBox: `0 0 ${WIDTH} 40`, width: "100%" });
  el.append(head, svg);

  let lanes = new Map(); // track id -> its label background, for the trigger flash
  let playhead = null;
  let column = (WIDTH - LABEL - 8) / 16;

  function draw() {
    const roll = model.get("roll") || {};
    const steps = roll.steps || 16;
    column = (WIDTH - LABEL - 8) / steps;
    svg.replaceChildren();
    lanes = new Map();
    const tracks = roll.lanes || [];
    let y = 18;
    const grid = make("g", { class: "oiduna-grid" });
    const notes = make("g", { class: "oiduna-notes" });
    for (let s = 0; s < steps; s++) {
      grid.append(make("text", { x: LABEL + s * column + column / 2, y: 12, "text-anchor": "middle",
        class: s % 4 === 0 ? "oiduna-beat-number" : "oiduna-step-number" }, s % 4 === 0 ? String(s / 4 + 1) : "·"));
    }
    if (!tracks.length) {
      grid.append(make("text", { x: LABEL, y: 36, class: "oiduna-empty" }, "no tracks yet: run a track() cell"));
      y = 44;
    }
    tracks.forEach((lane, i) => {
      const rows = Math.max(1, lane.rows.length);
      const height = Math.max(MIN_LANE, rows * ROW + 4);
      const state = lane.muted ? "muted" : lane.solo ? "solo" : lane.audible ? "" : "silent";
      const g = make("g", { class: `oiduna-lane ${state}`, "data-track": lane.id });
      const bg = make("rect", { x: 0, y, width: LABEL - 6, height, rx: 4, class: "oiduna-lane-label" });
      g.append(bg, make("rect", { x: LABEL, y, width: steps * column, height, class: "oiduna-lane-bg" }));
      g.append(make("text", { x: 8, y: y + 15, class: "oiduna-lane-name" }, lane.id));
      const tag = [lane.kind === "midi" ? "midi" : "", lane.source, state].filter(Boolean).join(" · ");
      g.append(make("text", { x: 8, y: y + 28, class: "oiduna-lane-tag" }, tag));
      if (lane.rows.length > 1 || /^-?[0-9.]+$/.test(lane.rows[0] || "")) { // several sounds, or notes
        lane.rows.forEach((label, r) => {
          if (height >= rows * ROW) {
            g.append(make("text", { x: LABEL - 10, y: y + 2 + r * ROW + ROW - 2, "text-anchor": "end",
              class: "oiduna-row-label" }, label));
          }
        });
      }
      const colour = COLOURS[i % COLOURS.length];
      const rowHeight = Math.min(ROW, (height - 4) / rows);
      const fill = state && state !== "solo" ? "#8a8f98" : colour;
      for (const [start, length, row, level] of lane.events) {
        const x = LABEL + start * column + 1;
        const top = y + 2 + row * rowHeight;
        const h = Math.max(2, rowHeight - 1.5);
        notes.append(make("rect", {
          x, y: top, width: Math.max(2, Math.min(length, steps - start) * column - 3), height: h,
          rx: 2, fill, "fill-opacity": 0.35 + 0.65 * level, class: "oiduna-note", "data-track": lane.id,
        }));
        notes.append(make("rect", { x, y: top, width: 2.5, height: h, class: "oiduna-onset" })); // where it starts
      }
      grid.append(g);
      lanes.set(lane.id, bg);
      y += height + GAP;
    });
    for (let s = 0; s <= steps; s++) {
      grid.append(make("line", { x1: LABEL + s * column, x2: LABEL + s * column, y1: 16, y2: y,
        class: s % 4 === 0 ? "oiduna-beat-line" : "oiduna-step-line" }));
    }
    playhead = make("rect", { x: 0, y: 16, width: column, height: y - 16, class: "oiduna-playhead" });
    svg.append(grid, notes, playhead);
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${y + 2}`);
    move(false);
  }

  function move(flash = true) {
    const position = model.get("position") || {};
    const step = position.step || 0;
    const inBar = step % 16;
    counter.textContent = position.label || "1.1.1";
    caption.textContent = `bar.beat.step · cycle ${position.cycle ?? 0}`;
    if (playhead) {
      playhead.setAttribute("x", LABEL + inBar * column);
      playhead.setAttribute("data-step", String(inBar));
    }
    if (!flash) return;
    for (const id of position.tracks || []) {
      const bg = lanes.get(id);
      if (!bg) continue;
      bg.classList.remove("flash");
      void bg.getBBox(); // restart the fade
      bg.classList.add("flash");
    }
  }

  model.on("change:roll", draw);
  model.on("change:position", () => move(true));
  draw();
  keepKeys(el, ".oiduna-transport");
}

export default { render };
