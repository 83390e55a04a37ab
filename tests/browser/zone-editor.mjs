// The live view and zone editor in a real browser: headless Chromium, driven by playwright-core,
// loads the page from http://127.0.0.1:PORT/ through a TCP -> Unix-socket bridge (what
// `ssh -L 8080:/run/picket/preview.sock pi` does for an owner), and in one session of at most
// 60 s checks that
//   1. the stream shows a picture (a screenshot of the stream's area is not one flat colour),
//   2. a polygon drawn by mouse clicks lands where it was clicked, and its TOML, appended to the
//      config, passes `picket check`,
//   3. a self-intersecting polygon drawn by clicks is refused on the page with the message
//      `picket check` gives for the same TOML.
// Run by scripts/test.d/55-browser.sh:
//   node zone-editor.mjs SOCKET PICKET CONFIG WORKDIR   (PICKET_NODE_MODULES: where playwright-core is)
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import zlib from "node:zlib";

const [socket, picket, config, workdir] = process.argv.slice(2);
if (!workdir) throw new Error("usage: zone-editor.mjs SOCKET PICKET CONFIG WORKDIR");
const require = createRequire(path.join(process.env.PICKET_NODE_MODULES, "package.json"));
const { chromium } = require("playwright-core");

/// The whole browser session's budget.
const SESSION_MS = 60_000;
/// A clicked point and its normalised coordinate may differ by the page's rounding (0.001) and
/// a pixel of the 384x288 picture.
const TOLERANCE = 0.006;

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures += 1;
}

/// Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's screenshots are) into
/// { width, height, channels, pixels }.
function decodePng(png) {
  const signature = "89504e470d0a1a0a";
  if (png.subarray(0, 8).toString("hex") !== signature) throw new Error("not a PNG");
  let at = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      channels = { 2: 3, 6: 4 }[colour];
      if (depth !== 8 || !channels || interlace !== 0) {
        throw new Error(`PNG depth ${depth} colour type ${colour} interlace ${interlace}: not handled`);
      }
    } else if (type === "IDAT") {
      idat.push(data);
    }
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predicted = 0;
      if (filter === 1) predicted = a;
      else if (filter === 2) predicted = b;
      else if (filter === 3) predicted = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (line[x] + predicted) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/// The standard deviation of the pixels' luma: 0 for a blank area.
function lumaSpread({ width, height, channels, pixels }) {
  let sum = 0, squares = 0;
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const y = 0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2];
    sum += y;
    squares += y * y;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, squares / n - mean * mean));
}

/// `picket check` on the config with `toml` appended: { ok, said }.
function picketCheck(toml, name) {
  const file = path.join(workdir, name);
  fs.writeFileSync(file, fs.readFileSync(config, "utf8") + "\n" + toml);
  try {
    const out = execFileSync(picket, ["check", "-c", file], { encoding: "utf8", stdio: "pipe" });
    return { ok: true, said: out };
  } catch (e) {
    return { ok: false, said: String(e.stderr) };
  }
}

/// The numbers of a `polygon = [[x, y], ...]` line, as pairs.
function polygonOf(toml) {
  const m = /polygon = \[(.*)\]/.exec(toml);
  if (!m) return [];
  const n = m[1].match(/-?\d+(\.\d+)?/g).map(Number);
  return n.reduce((pairs, v, i) => (i % 2 ? pairs[pairs.length - 1].push(v) : pairs.push([v]), pairs), []);
}

/// Clicks the corners `points` (fractions of the picture) on the page, names the shape, presses
/// Finish and waits for the verdict: { good, message, draft, accepted }.
async function draw(page, name, points) {
  const box = await page.locator("#stream").boundingBox();
  for (const [x, y] of points) {
    await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  }
  await page.fill("#name", name);
  await page.evaluate(() => { document.getElementById("message").className = ""; });
  await page.click("#finish");
  await page.waitForFunction(() => document.getElementById("message").className !== "");
  return {
    good: (await page.getAttribute("#message", "class")) === "good",
    message: await page.locator("#message").textContent(),
    draft: await page.locator("#draft").textContent(),
    accepted: await page.inputValue("#toml"),
  };
}

/// What a check said after its location (`FILE:LINE:COL: `): the same for the page and the CLI.
function afterLocation(said) {
  const m = /:\d+:(\d+): (.*)$/s.exec(said.trim());
  return m ? { column: m[1], text: m[2] } : { column: null, text: said.trim() };
}

// The bridge: each TCP connection gets its own connection to the socket, bytes both ways.
const bridge = net.createServer((tcp) => {
  const unix = net.connect(socket);
  tcp.pipe(unix).on("error", () => tcp.destroy());
  unix.pipe(tcp).on("error", () => unix.destroy());
  tcp.on("error", () => unix.destroy());
  unix.on("error", () => tcp.destroy());
  tcp.on("close", () => unix.destroy());
  unix.on("close", () => tcp.destroy());
});
await new Promise((ok) => bridge.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${bridge.address().port}/`;

const started = Date.now();
const deadline = setTimeout(() => {
  console.log(`FAIL the browser session passed ${SESSION_MS / 1000} s`);
  process.exit(1);
}, SESSION_MS);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Chromium's sandbox needs user namespaces, which containers running as root often lack.
  args: process.getuid() === 0 ? ["--no-sandbox"] : [],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Chromium asks for /favicon.ico on its own; picket has none (404), which is no error of the page.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) {
      errors.push(`${m.text()} (${m.location().url})`);
    }
  });
  await page.goto(url);

  // 1. The stream shows a picture, at the source's size.
  await page.waitForFunction(() => document.getElementById("stream").naturalWidth > 0, null, { timeout: 20_000 });
  const natural = await page.evaluate(() => {
    const i = document.getElementById("stream");
    return [i.naturalWidth, i.naturalHeight];
  });
  check(natural[0] === 384 && natural[1] === 288, `the stream's picture is 384x288 (${natural.join("x")})`);
  const shot = path.join(workdir, "stream.png");
  await page.locator("#stream").screenshot({ path: shot });
  const png = decodePng(fs.readFileSync(shot));
  const spread = lumaSpread(png);
  check(spread > 20, `the stream's area is not blank: luma spread ${spread.toFixed(1)} over ${png.width}x${png.height} px`);
  const overlay = await page.evaluate(() => {
    const c = document.getElementById("draw").getBoundingClientRect();
    const i = document.getElementById("stream").getBoundingClientRect();
    return [c.left - i.left, c.top - i.top, c.width - i.width, c.height - i.height].map(Math.abs);
  });
  check(overlay.every((d) => d < 1), `the drawing layer covers the picture exactly (off by ${overlay.join(", ")} px)`);

  // 2. A polygon drawn by clicks: where it was clicked, and `picket check` takes its TOML.
  const corners = [[0.2, 0.3], [0.7, 0.3], [0.7, 0.8], [0.2, 0.8]];
  const zone = await draw(page, "gate", corners);
  check(zone.good && zone.message.startsWith("picket check: ok"), `the page accepts the polygon: "${zone.message}"`);
  check(zone.accepted.includes('name = "gate"'), "the accepted TOML carries the name");
  const got = polygonOf(zone.accepted);
  const placed = got.length === corners.length &&
    got.every(([x, y], i) => Math.abs(x - corners[i][0]) <= TOLERANCE && Math.abs(y - corners[i][1]) <= TOLERANCE);
  check(placed, `the polygon is where it was clicked: ${JSON.stringify(got)} for ${JSON.stringify(corners)}`);
  const cli = picketCheck(zone.accepted, "with-zone.toml");
  check(cli.ok && zone.accepted.includes("[[zones]]"),
    `picket check accepts the config with the page's [[zones]] appended${cli.ok ? "" : ": " + cli.said}`);

  // 3. A bow tie drawn by clicks: refused on the page with picket check's message.
  const bowtie = await draw(page, "bowtie", [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]]);
  check(!bowtie.good, `the page refuses the bow tie: "${bowtie.message}"`);
  check(bowtie.accepted === zone.accepted, "the refused shape stays out of the TOML to paste");
  check(bowtie.draft.includes('name = "bowtie"'), "the draft shows the refused shape");
  const refused = picketCheck(zone.accepted + "\n" + bowtie.draft, "with-bowtie.toml");
  check(!refused.ok, "picket check refuses the same TOML");
  const [page3, cli3] = [afterLocation(bowtie.message), afterLocation(refused.said)];
  check(cli3.text.includes("intersects itself"), `picket check says why: "${refused.said.trim()}"`);
  check(page3.text === cli3.text && page3.column === cli3.column,
    `the page says what picket check says: "${page3.text}" (column ${page3.column}) vs "${cli3.text}" (column ${cli3.column})`);

  check(errors.length === 0, `no errors in the page${errors.length ? ": " + errors.join("; ") : ""}`);
} finally {
  await browser.close();
  clearTimeout(deadline);
  bridge.close();
}
console.log(`browser session: ${((Date.now() - started) / 1000).toFixed(1)} s, ${failures} failed`);
process.exit(failures ? 1 : 0);
