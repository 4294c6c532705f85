/** The moment a URL records: workload, personalities, seed and step, so a teacher can link it. */
export interface Moment {
  workload: string;
  personalities: string[];
  seed: number;
  step: number;
}

export const DEFAULT_MOMENT: Moment = { workload: 'lecture-fork', personalities: ['linux-6.x'], seed: 1, step: 0 };

function intParam(v: string | null, fallback: number, max: number): number {
  if (v === null || !/^\d+$/.test(v)) return fallback;
  const n = Number(v);
  return n <= max ? n : fallback;
}

/** Read a moment from a query string (?w=lecture-fork&p=linux-6.x,linux-5.15&seed=1&step=3); bad fields fall back to the defaults. */
export function parseMoment(search: string): Moment {
  const q = new URLSearchParams(search);
  const p = (q.get('p') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').slice(0, 2);
  return {
    workload: q.get('w') ?? DEFAULT_MOMENT.workload,
    personalities: p.length > 0 ? p : DEFAULT_MOMENT.personalities,
    seed: intParam(q.get('seed'), DEFAULT_MOMENT.seed, 2 ** 31 - 1),
    step: intParam(q.get('step'), 0, 10_000_000),
  };
}

export function formatMoment(m: Moment): string {
  const q = new URLSearchParams({ w: m.workload, p: m.personalities.join(','), seed: String(m.seed), step: String(m.step) });
  return `?${q.toString().replace(/%2C/g, ',').replace(/%2F/g, '/')}`;
}
