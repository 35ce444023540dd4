/**
 * Summarise a V8 .cpuprofile (node --cpu-prof): self time by function and by package/area.
 *
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/persist.ts && npx tsx bench/cpuprofile.ts /tmp/prof/*.cpuprofile
 *   npx tsx bench/cpuprofile.ts --window 4 <file>   # only the busiest 4 s (skips start-up, idle)
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function area(url: string): string {
  if (url === "") {
    return "(native/gc/idle)";
  }
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) {
    return url;
  }
  const src = url.indexOf("/src/");
  return src >= 0 ? url.slice(src + 1) : url;
}

const args = process.argv.slice(2);
const w = args.indexOf("--window");
const windowUs = w >= 0 ? Number(args.splice(w, 2)[1]) * 1e6 : 0;

/** [from, to) sample indexes of the busiest window of `windowUs` (all samples if 0). */
function busiest(p: Profile, idleIds: Set<number>): [number, number] {
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (!windowUs) {
    return [0, samples.length];
  }
  let best: [number, number] = [0, 0];
  let bestBusy = -1;
  let from = 0;
  let span = 0;
  let busy = 0;
  for (let to = 0; to < samples.length; to++) {
    span += deltas[to] ?? 0;
    busy += idleIds.has(samples[to] ?? -1) ? 0 : (deltas[to] ?? 0);
    while (span > windowUs && from < to) {
      span -= deltas[from] ?? 0;
      busy -= idleIds.has(samples[from] ?? -1) ? 0 : (deltas[from] ?? 0);
      from++;
    }
    if (busy > bestBusy) {
      bestBusy = busy;
      best = [from, to + 1];
    }
  }
  return best;
}

for (const file of args) {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const self = new Map<number, number>();
  const deltas = p.timeDeltas ?? [];
  const idleIds = new Set(
    p.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id),
  );
  const [from, to] = busiest(p, idleIds);
  (p.samples ?? []).forEach((id, i) => {
    if (i >= from && i < to) {
      self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
    }
  });
  const total = [...self.values()].reduce((s, v) => s + v, 0);
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || "(anonymous)"} ${area(url)}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const a = functionName === "(idle)" ? "(idle)" : area(url);
    byArea.set(a, (byArea.get(a) ?? 0) + t);
  }
  // Inclusive time: a node's self time plus its subtree's (recursion counted once per path).
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<number, number>();
  const incl = (id: number): number => {
    const known = inclusive.get(id);
    if (known !== undefined) {
      return known;
    }
    const n = byId.get(id);
    const t = (self.get(id) ?? 0) + (n?.children ?? []).reduce((sum, c) => sum + incl(c), 0);
    inclusive.set(id, t);
    return t;
  };
  const byFnTotal = new Map<string, number>();
  const onStack = new Set<string>();
  const walk = (id: number) => {
    const n = byId.get(id);
    if (!n) {
      return;
    }
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || "(anonymous)"} ${area(url)}:${lineNumber + 1}`;
    const outer = !onStack.has(key);
    if (outer) {
      byFnTotal.set(key, (byFnTotal.get(key) ?? 0) + incl(id));
      onStack.add(key);
    }
    (n.children ?? []).forEach(walk);
    if (outer) {
      onStack.delete(key);
    }
  };
  walk(p.nodes[0]?.id ?? 1);
  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
  console.log(`\n${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  console.log("-- by area");
  for (const [k, v] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`${pct(v)}  ${k}`);
  }
  console.log("-- by function (self)");
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${pct(v)}  ${k}`);
  }
  console.log("-- by function (inclusive), project code and its direct callees");
  for (const [k, v] of [...byFnTotal]
    .filter(([k]) => k.includes(" src/") || process.env.ALL_FUNCTIONS)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)) {
    console.log(`${pct(v)}  ${k}`);
  }
}
