/**
 * A small Prometheus registry (text format 0.0.4). Counters and a latency histogram per
 * process or isolate: enough for dashboards and alerts, with no dependency that would weigh
 * on the Workers bundle.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;
const key = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

export class Metrics {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>();
  private readonly histograms = new Map<
    string,
    { help: string; values: Map<string, { buckets: number[]; sum: number; count: number }> }
  >();
  private readonly gauges = new Map<string, { help: string; read: () => number }>();

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const c = this.counters.get(name) ?? { help, values: new Map() };
    this.counters.set(name, c);
    const k = key(labels);
    c.values.set(k, (c.values.get(k) ?? 0) + by);
  }

  observe(name: string, help: string, seconds: number, labels: Labels = {}): void {
    const h = this.histograms.get(name) ?? { help, values: new Map() };
    this.histograms.set(name, h);
    const k = key(labels);
    const v = h.values.get(k) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    h.values.set(k, v);
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) v.buckets[i]!++;
    });
    v.sum += seconds;
    v.count++;
  }

  gauge(name: string, help: string, read: () => number): void {
    this.gauges.set(name, { help, read });
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, c] of this.counters) {
      lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      for (const [k, v] of c.values) lines.push(`${name}${k ? `{${k}}` : ''} ${v}`);
    }
    for (const [name, h] of this.histograms) {
      lines.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
      for (const [k, v] of h.values) {
        const sep = k ? `${k},` : '';
        BUCKETS.forEach((b, i) => {
          lines.push(`${name}_bucket{${sep}le="${b}"} ${v.buckets[i]}`);
        });
        lines.push(`${name}_bucket{${sep}le="+Inf"} ${v.count}`);
        lines.push(
          `${name}_sum${k ? `{${k}}` : ''} ${v.sum}`,
          `${name}_count${k ? `{${k}}` : ''} ${v.count}`,
        );
      }
    }
    for (const [name, g] of this.gauges) {
      lines.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.read()}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
