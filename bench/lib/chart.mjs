// A dependency-free SVG chart: one panel per scenario, stacked.
//   bars:  grouped bars, one group per cell, one bar per series
//   lines: one line per series over x (log-log)
// This package's series are drawn in blues, Python in oranges, Node in
// green, C in greys, so "who leads" reads at a glance.

const W = 980;
const PANEL_H = 330;
const M = { left: 72, right: 290, top: 46, bottom: 46 };

const palettes = {
  ours: ['#1f4e9c', '#2f78d6', '#6aa5ec', '#9cc3f2'],
  python: ['#d9480f', '#f08c00', '#f5b041'],
  node: ['#2b8a3e'],
  c: ['#495057', '#adb5bd'],
};

function colorFor(series, counters) {
  const l = series.label.toLowerCase();
  const kind = series.group === 'ours' ? 'ours' : l.startsWith('python') ? 'python' : l.startsWith('node') ? 'node' : 'c';
  const p = palettes[kind];
  const i = counters[kind] ?? 0;
  counters[kind] = i + 1;
  return p[i % p.length];
}

/** Lines of at most `width` characters, broken at spaces. */
function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const NOTE_LINE_H = 14;
const NOTE_WIDTH = 150;

/** A panel's note lines (wrapped), drawn under its plot. */
function noteLines(p) {
  return (p.notes ?? []).flatMap((n) => wrap(n, NOTE_WIDTH));
}

/** A panel's height: the plot, plus its notes. */
function panelHeight(p) {
  const n = noteLines(p).length;
  return PANEL_H + (n ? n * NOTE_LINE_H + 8 : 0);
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmtTick(v) {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function yScale(values, log, h) {
  const vs = values.filter((v) => v !== null && v > 0);
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...vs, 1e9)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...vs, lo * 10)));
    const f = (v) => h - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
    const ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
    return { f, ticks };
  }
  const hi = niceMax(Math.max(...vs, 0));
  const f = (v) => h - (v / hi) * h;
  const ticks = [0, 1, 2, 3, 4, 5].map((i) => (hi * i) / 5);
  return { f, ticks };
}

function panel(p, y0) {
  const out = [];
  const pw = W - M.left - M.right;
  const ph = PANEL_H - M.top - M.bottom;
  const x0 = M.left;
  const top = y0 + M.top;
  out.push(`<text x="${x0}" y="${y0 + 22}" class="title">${esc(p.title)}</text>`);
  if (p.subtitle) out.push(`<text x="${x0}" y="${y0 + 37}" class="sub">${esc(p.subtitle)}</text>`);
  const series = p.series.filter((s) => s.values.some((v) => v !== null));
  if (series.length === 0) {
    out.push(`<text x="${x0 + 10}" y="${top + ph / 2}" class="sub">no data</text>`);
    return out.join('\n');
  }
  const counters = {};
  const colors = series.map((s) => colorFor(s, counters));
  const { f, ticks } = yScale(series.flatMap((s) => s.values), p.log, ph);
  for (const t of ticks) {
    const y = top + f(t);
    out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${y}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" class="tick" text-anchor="end">${fmtTick(t)}</text>`);
  }
  out.push(`<text x="${x0 - 56}" y="${top + ph / 2}" class="tick" transform="rotate(-90 ${x0 - 56} ${top + ph / 2})" text-anchor="middle">${esc(p.unit)}</text>`);
  if (p.kind === 'bars') {
    const groups = p.groups;
    const gw = pw / groups.length;
    const bw = Math.max(2, (gw * 0.8) / series.length);
    groups.forEach((g, gi) => {
      const gx = x0 + gi * gw + gw * 0.1;
      series.forEach((s, si) => {
        const v = s.values[gi];
        if (v === null || !(v > 0)) return;
        const y = top + f(v);
        out.push(
          `<rect x="${(gx + si * bw).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(top + ph - y).toFixed(1)}" fill="${colors[si]}"><title>${esc(`${s.label} @ ${g}: ${fmtTick(v)}${s.raw ? ` (${fmtTick(s.raw[gi])} ${p.rawUnit ?? ''})` : ''}`)}</title></rect>`,
        );
      });
      out.push(`<text x="${x0 + gi * gw + gw / 2}" y="${top + ph + 16}" class="tick" text-anchor="middle">${esc(g)}</text>`);
    });
  } else {
    const xs = p.x;
    const lx = (i) => x0 + (xs.length === 1 ? pw / 2 : (i / (xs.length - 1)) * pw);
    xs.forEach((xv, i) => {
      out.push(`<text x="${lx(i)}" y="${top + ph + 16}" class="tick" text-anchor="middle">${esc(`${p.xLabel ?? ''}${xv.toLocaleString('en-US')}`)}</text>`);
    });
    series.forEach((s, si) => {
      const pts = s.values.map((v, i) => (v !== null && v > 0 ? [lx(i), top + f(v)] : null));
      let d = '';
      pts.forEach((pt, i) => {
        if (!pt) return;
        d += `${d && pts[i - 1] ? 'L' : 'M'}${pt[0].toFixed(1)},${pt[1].toFixed(1)} `;
      });
      out.push(`<path d="${d.trim()}" fill="none" stroke="${colors[si]}" stroke-width="2"/>`);
      pts.forEach((pt, i) => {
        if (pt) out.push(`<circle cx="${pt[0].toFixed(1)}" cy="${pt[1].toFixed(1)}" r="3" fill="${colors[si]}"><title>${esc(`${s.label} @ ${xs[i]}: ${fmtTick(s.values[i])}`)}</title></circle>`);
      });
    });
  }
  out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${top + ph}" y2="${top + ph}" class="axis"/>`);
  noteLines(p).forEach((line, i) => {
    out.push(`<text x="${x0 - 56}" y="${top + ph + M.bottom + 4 + i * NOTE_LINE_H}" class="note">${esc(line)}</text>`);
  });
  series.forEach((s, si) => {
    const ly = top + si * 17;
    const lx = x0 + pw + 16;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="11" height="11" fill="${colors[si]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" class="legend">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

export function renderSvg({ title, subtitle, warning, panels }) {
  // A run on a busy machine says so at the top of the chart, as the .md does.
  const head = warning ? 74 : 56;
  const tops = [];
  let y = head;
  for (const p of panels) {
    tops.push(y);
    y += panelHeight(p);
  }
  const H = y;
  const body = panels.map((p, i) => panel(p, tops[i])).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<style>
.title{font-size:15px;font-weight:bold;fill:#212529}
.sub{font-size:11px;fill:#555}
.tick{font-size:10.5px;fill:#444}
.legend{font-size:11px;fill:#222}
.note{font-size:11px;fill:#333;font-style:italic}
.warning{font-size:13px;font-weight:bold;fill:#c92a2a}
.grid{stroke:#e9ecef;stroke-width:1}
.axis{stroke:#868e96;stroke-width:1}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="26" style="font-size:18px;font-weight:bold;fill:#111">${esc(title)}</text>
<text x="16" y="44" class="sub">${esc(subtitle ?? '')}</text>
${warning ? `<text x="16" y="64" class="warning">${esc(warning)}</text>` : ''}
${body}
</svg>
`;
}
