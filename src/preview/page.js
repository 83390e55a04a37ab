// The zone editor: clicks on the live view become a polygon or a line in normalised
// coordinates; "Finish" turns it into [[zones]] / [[lines]] TOML and asks picket's own
// validation (/check, the code `picket check` runs) whether it holds.
"use strict";
const canvas = document.getElementById("draw");
const img = document.getElementById("stream");
const ctx = canvas.getContext("2d");
const message = document.getElementById("message");
const output = document.getElementById("toml");
const draft = document.getElementById("draft");
let points = [];
let accepted = [];

function kind() {
  return document.querySelector("input[name=kind]:checked").value;
}

function redraw() {
  canvas.width = canvas.clientWidth;
  canvas.height = canvas.clientHeight;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#ff0";
  ctx.fillStyle = "#ff0";
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    const px = x * canvas.width, py = y * canvas.height;
    if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    ctx.fillRect(px - 3, py - 3, 6, 6);
  });
  if (kind() === "zone" && points.length > 2) ctx.closePath();
  ctx.stroke();
  draft.textContent = points.length ? toml() : "";
}

function round(v) {
  return Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
}

function fmt(p) {
  const n = (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
  return "[" + n(p[0]) + ", " + n(p[1]) + "]";
}

function toml() {
  const name = JSON.stringify(document.getElementById("name").value.trim());
  if (kind() === "zone") {
    return "[[zones]]\nname = " + name + "\npolygon = [" + points.map(fmt).join(", ") + "]\n";
  }
  return "[[lines]]\nname = " + name + "\na = " + fmt(points[0] || [0, 0]) +
    "\nb = " + fmt(points[1] || [0, 0]) + "\n";
}

function say(text, good) {
  message.textContent = text;
  message.className = good ? "good" : "bad";
}

canvas.addEventListener("click", (e) => {
  const r = canvas.getBoundingClientRect();
  if (kind() === "line" && points.length === 2) points = [];
  points.push([round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)]);
  redraw();
});

document.getElementById("undo").addEventListener("click", () => { points.pop(); redraw(); });
document.getElementById("clear").addEventListener("click", () => {
  points = []; accepted = []; output.value = ""; say("", true); redraw();
});
document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", () => {
  points = []; redraw();
}));

document.getElementById("finish").addEventListener("click", async () => {
  const text = toml();
  const all = accepted.concat([text]).join("\n");
  try {
    const res = await fetch("/check?toml=" + encodeURIComponent(all));
    const verdict = await res.json();
    if (verdict.ok) {
      accepted.push(text);
      output.value = accepted.join("\n");
      points = [];
      redraw();
      say("picket check: ok" + (verdict.warnings.length ? " (" + verdict.warnings.join("; ") + ")" : ""), true);
    } else {
      say(verdict.error, false);
    }
  } catch (err) {
    say("picket did not answer: " + err, false);
  }
});

document.getElementById("name").addEventListener("input", redraw);
// The picture takes its size from the first frame; a multipart stream need not fire "load".
new ResizeObserver(redraw).observe(img);
redraw();
