import type { ScalingPoint } from './scaling';

interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** A second series drawn dashed (e.g. the slice-state part). */
  readonly second?: ReadonlyArray<readonly [number, number]>;
  readonly secondLabel?: string;
  readonly firstLabel?: string;
  readonly logY: boolean;
  /** Horizontal reference line (e.g. naive = 0.9 writes per record). */
  readonly reference?: { readonly y: number; readonly label: string };
}

const W = 380;
const H = 250;
const M = { left: 64, right: 16, top: 34, bottom: 46 };

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const fmt = (v: number): string =>
  v >= 1000
    ? `${Math.round(v / 1000)}k`
    : v >= 1 || v === 0
      ? String(Math.round(v * 100) / 100)
      : String(Number(v.toPrecision(2)));

function panel(p: Panel, ox: number, oy: number): string {
  const all = [...p.points, ...(p.second ?? [])];
  const xs = all.map(([x]) => Math.log10(x));
  const ysRaw = [...all.map(([, y]) => y), ...(p.reference ? [p.reference.y] : [])];
  const ty = (y: number): number => (p.logY ? Math.log10(Math.max(y, 1e-6)) : y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = p.logY ? Math.floor(Math.min(...ysRaw.map(ty))) : 0;
  let y1 = p.logY ? Math.ceil(Math.max(...ysRaw.map(ty))) : Math.max(...ysRaw) * 1.1;
  if (y0 === y1) {
    y0 -= 1;
    y1 += 1;
  }
  const px = (x: number): number =>
    ox + M.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y: number): number =>
    oy + H - M.bottom - ((ty(y) - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(
    `<text x="${ox + W / 2}" y="${oy + 18}" text-anchor="middle" font-size="13" font-weight="bold">${esc(p.title)}</text>`,
  );
  // axes
  out.push(
    `<line x1="${ox + M.left}" y1="${oy + H - M.bottom}" x2="${ox + W - M.right}" y2="${oy + H - M.bottom}" stroke="#333"/>`,
    `<line x1="${ox + M.left}" y1="${oy + M.top}" x2="${ox + M.left}" y2="${oy + H - M.bottom}" stroke="#333"/>`,
  );
  for (const [x] of p.points) {
    out.push(
      `<line x1="${px(x)}" y1="${oy + H - M.bottom}" x2="${px(x)}" y2="${oy + H - M.bottom + 4}" stroke="#333"/>`,
      `<text x="${px(x)}" y="${oy + H - M.bottom + 16}" text-anchor="middle" font-size="10">${fmt(x)}</text>`,
    );
  }
  const ticks: number[] = [];
  if (p.logY) for (let e = y0; e <= y1; e++) ticks.push(10 ** e);
  else for (let i = 0; i <= 4; i++) ticks.push((y1 * i) / 4);
  for (const t of ticks) {
    out.push(
      `<line x1="${ox + M.left - 4}" y1="${py(t)}" x2="${ox + W - M.right}" y2="${py(t)}" stroke="#ddd"/>`,
      `<text x="${ox + M.left - 6}" y="${py(t) + 3}" text-anchor="end" font-size="10">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<text x="${ox + W / 2}" y="${oy + H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`,
    `<text x="${ox + 14}" y="${oy + H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${ox + 14} ${oy + H / 2})">${esc(p.yLabel)}</text>`,
  );
  if (p.reference) {
    const y = py(p.reference.y);
    out.push(
      `<line x1="${ox + M.left}" y1="${y}" x2="${ox + W - M.right}" y2="${y}" stroke="#c0392b" stroke-dasharray="2,3"/>`,
      `<text x="${ox + W - M.right - 2}" y="${y - 4}" text-anchor="end" font-size="10" fill="#c0392b">${esc(p.reference.label)}</text>`,
    );
  }
  const line = (pts: ReadonlyArray<readonly [number, number]>, color: string, dash: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>` +
    pts
      .map(
        ([x, y]) =>
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`,
      )
      .join('');
  out.push(line(p.points, '#1f6feb', ''));
  if (p.second) out.push(line(p.second, '#2da44e', '5,4'));
  if (p.firstLabel) {
    out.push(
      `<text x="${ox + M.left + 8}" y="${oy + M.top + 10}" font-size="10" fill="#1f6feb">— ${esc(p.firstLabel)}</text>`,
    );
  }
  if (p.secondLabel) {
    out.push(
      `<text x="${ox + M.left + 8}" y="${oy + M.top + 22}" font-size="10" fill="#2da44e">- - ${esc(p.secondLabel)}</text>`,
    );
  }
  return out.join('\n');
}

/**
 * The scaling plot: writes per record and records/s against batch size (50 keys) and against
 * keys (1,000-record batches), log-scaled x. Plain SVG, no dependencies.
 */
export function scalingSvg(
  scaling: { byBatchSize: readonly ScalingPoint[]; byKeys: readonly ScalingPoint[] },
  caption: string,
): string {
  const naive = { y: 0.9, label: 'naive: 0.9 writes (items) / record' };
  const panels = [
    panel(
      {
        title: 'Writes per record vs batch size (50 keys)',
        xLabel: 'records per batch',
        yLabel: 'DynamoDB writes / record',
        points: scaling.byBatchSize.map((p) => [p.batchSize, p.writesPerRecord] as const),
        second: scaling.byBatchSize.map((p) => [p.batchSize, p.itemWritesPerRecord] as const),
        firstLabel: 'write requests',
        secondLabel: 'items written (capacity)',
        logY: true,
        reference: naive,
      },
      0,
      0,
    ),
    panel(
      {
        title: 'Writes per record vs keys (1,000-record batches)',
        xLabel: 'distinct keys',
        yLabel: 'DynamoDB writes / record',
        points: scaling.byKeys.map((p) => [p.keys, p.writesPerRecord] as const),
        second: scaling.byKeys.map((p) => [p.keys, p.itemWritesPerRecord] as const),
        firstLabel: 'write requests',
        secondLabel: 'items written (capacity)',
        logY: true,
        reference: naive,
      },
      W,
      0,
    ),
    panel(
      {
        title: 'Throughput vs batch size (50 keys)',
        xLabel: 'records per batch',
        yLabel: 'records / s (in-process)',
        points: scaling.byBatchSize.map((p) => [p.batchSize, p.recordsPerSec] as const),
        logY: false,
      },
      0,
      H,
    ),
    panel(
      {
        title: 'Throughput vs keys (1,000-record batches)',
        xLabel: 'distinct keys',
        yLabel: 'records / s (in-process)',
        points: scaling.byKeys.map((p) => [p.keys, p.recordsPerSec] as const),
        logY: false,
      },
      W,
      H,
    ),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H + 24}" viewBox="0 0 ${2 * W} ${2 * H + 24}" font-family="sans-serif">`,
    '<title>shardflow scaling: DynamoDB writes per record and records/s against batch size and keys</title>',
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="${W}" y="${2 * H + 16}" text-anchor="middle" font-size="10" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
