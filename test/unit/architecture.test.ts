/**
 * The rules of docs/architecture.md, checked against the real import graph of src/ so that the
 * document cannot drift from the code. The graph comes from the `import … from`, `export … from`,
 * side-effect `import "…"` and dynamic `import("…")` lines of every .ts file; a relative specifier
 * that resolves to no file fails the test, so a parser miss cannot pass silently.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

interface Module {
  /** Path under src/, posix separators: "store/calls/reads.ts". */
  file: string;
  text: string;
  /** Modules of src/ it imports, as paths under src/. */
  internal: string[];
  /** Package specifiers it imports ("pg", "node:crypto", "drizzle-orm/pg-core"). */
  external: string[];
}

const SPECIFIER =
  /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gms;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return listTs(full);
    }
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function resolveInternal(from: string, specifier: string): string {
  const target = path.posix.normalize(
    path.posix.join(path.posix.dirname(from), specifier.replace(/\.js$/, ".ts")),
  );
  if (!existsSync(path.join(SRC, target))) {
    throw new Error(`${from}: import "${specifier}" resolves to no file (${target})`);
  }
  return target;
}

function parseModule(file: string, text: string): Module {
  const internal: string[] = [];
  const external: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? "";
    if (specifier.startsWith(".")) {
      internal.push(resolveInternal(file, specifier));
    } else {
      external.push(specifier);
    }
  }
  return { file, text, internal, external };
}

function loadGraph(): Module[] {
  return listTs(SRC).map((full) => {
    const file = path.relative(SRC, full).split(path.sep).join("/");
    return parseModule(file, readFileSync(full, "utf8"));
  });
}

const graph = loadGraph();
const under = (prefix: string) => (file: string) => file.startsWith(prefix);
const inside = (...prefixes: string[]) =>
  graph.filter((m) => prefixes.some((p) => under(p)(m.file)));

/** "from → to" for every import of `modules` that `allowed` refuses. */
function violations(modules: Module[], allowed: (target: string, from: string) => boolean) {
  return modules.flatMap((m) =>
    m.internal.filter((t) => !allowed(t, m.file)).map((t) => `${m.file} → ${t}`),
  );
}

function externalViolations(modules: Module[], forbidden: RegExp) {
  return modules.flatMap((m) =>
    m.external.filter((s) => forbidden.test(s)).map((s) => `${m.file} → ${s}`),
  );
}

/** Every module reachable from `start` through internal imports. */
function reachable(start: Module[]): Set<string> {
  const byFile = new Map(graph.map((m) => [m.file, m]));
  const seen = new Set<string>();
  const stack = start.map((m) => m.file);
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) {
      continue;
    }
    seen.add(file);
    stack.push(...(byFile.get(file)?.internal ?? []));
  }
  return seen;
}

/** Libraries that do I/O or hold connections: none of them belongs in the pure domain. */
const IO_LIBRARIES =
  /^(pg|drizzle-orm|bullmq|ioredis|fastify|@fastify\/|undici|pino|@alicloud\/|node:(fs|net|http|https|child_process|dgram|dns|worker_threads))(\/|$)/;

describe("the import graph parser", () => {
  it("reads every form of import and export, and refuses an import it cannot resolve", () => {
    const m = parseModule(
      "pipeline/x.ts",
      [
        'import { a } from "../store/db.js";',
        'import type {\n  B,\n  C,\n} from "../domain/types.js";',
        'export { d } from "./intake.js";',
        'export * from "./jobs.js";',
        'import "../logger.js";',
        'const e = await import("../config/index.js");',
        'import pg from "pg";',
      ].join("\n"),
    );
    expect(m.internal).toEqual([
      "store/db.ts",
      "domain/types.ts",
      "pipeline/intake.ts",
      "pipeline/jobs.ts",
      "logger.ts",
      "config/index.ts",
    ]);
    expect(m.external).toEqual(["pg"]);
    expect(() => parseModule("pipeline/x.ts", 'import { z } from "./nowhere.js";')).toThrow(
      /resolves to no file/,
    );
  });

  it("sees the whole of src/", () => {
    expect(graph.length).toBeGreaterThan(100);
    expect(graph.map((m) => m.file)).toContain("app.ts");
    expect(graph.flatMap((m) => m.internal).length).toBeGreaterThan(300);
  });
});

describe("docs/architecture.md rules", () => {
  it("the domain is pure: src/domain imports only src/domain and libraries without I/O", () => {
    const domain = inside("domain/");
    expect(domain.length).toBeGreaterThan(5);
    expect(violations(domain, under("domain/"))).toEqual([]);
    expect(externalViolations(domain, IO_LIBRARIES)).toEqual([]);
  });

  it("storage knows no queue and no delivery mode", () => {
    const store = inside("store/");
    const allowed = (t: string) =>
      ["store/", "domain/"].some((p) => t.startsWith(p)) ||
      ["logger.ts", "errors.ts", "infra/sleep.ts"].includes(t);
    expect(violations(store, allowed)).toEqual([]);
    expect(externalViolations(store, /^(bullmq|ioredis|fastify|undici|@alicloud\/)/)).toEqual([]);
  });

  it("receiving never waits on the detail API", () => {
    const receiving = inside("sources/", "pipeline/");
    expect(violations(receiving, (t) => !t.startsWith("reconcile/"))).toEqual([]);
    // The one use of src/alibaba: the STS token call of the MNS consumer, not the detail API.
    expect(violations(receiving, (t) => !t.startsWith("alibaba/"))).toEqual([
      "sources/mns/tokens.ts → alibaba/openapi.ts",
    ]);
    // Not even indirectly: of src/reconcile only the metric definitions (via src/ops/metrics.ts).
    const reached = [...reachable(receiving)].filter(under("reconcile/"));
    expect(reached).toEqual(["reconcile/metrics.ts"]);
  });

  it("production code never imports the simulator", () => {
    const importers = graph
      .filter((m) => !m.file.startsWith("simulator/"))
      .filter((m) => m.internal.some(under("simulator/")))
      .map((m) => m.file)
      .sort();
    expect(importers).toEqual(["cli/simulate.ts", "demo/runDemo.ts"]);
    // And the daemon cannot reach it at all.
    const daemon = graph.filter((m) => m.file === "main.ts");
    expect([...reachable(daemon)].filter(under("simulator/"))).toEqual([]);
    // The simulator itself uses only the domain's wire rules and the logger of production code.
    const simulator = inside("simulator/");
    const allowed = (t: string) =>
      t.startsWith("simulator/") || t.startsWith("domain/") || t === "logger.ts";
    expect(violations(simulator, allowed)).toEqual([]);
  });

  it("one owner per table: only src/store/<table>/ holds SQL that writes it", () => {
    const writes =
      /(insert\s+into|update|delete\s+from)\s+"?(calls|call_events|recordings|receipts)\b/i;
    const outsideStore = graph.filter((m) => !m.file.startsWith("store/") && writes.test(m.text));
    expect(outsideStore.map((m) => m.file)).toEqual([]);

    const owners: Record<string, string> = {
      calls: "store/calls/",
      call_events: "store/callEvents/",
      recordings: "store/recordings/",
      receipts: "store/receipts/",
      rejected_receipts: "store/rejectedReceipts/",
      dialogue_turns: "store/dialogueTurns/",
    };
    for (const [table, owner] of Object.entries(owners)) {
      const sql = new RegExp(`(insert\\s+into|update|delete\\s+from)\\s+"?${table}\\b`, "i");
      const writers = graph.filter((m) => sql.test(m.text)).map((m) => m.file);
      expect(writers.length, table).toBeGreaterThan(0);
      expect(
        writers.filter((f) => !f.startsWith(owner)),
        table,
      ).toEqual([]);
    }
  });

  it("one composition root: connections are opened only in src/app (daemon) and one-shot commands", () => {
    const opens = /\b(createPool|createRedis)\(/;
    const openers = graph
      .filter((m) => opens.test(m.text))
      .map((m) => m.file)
      .filter((f) => !["store/db.ts", "infra/redis.ts"].includes(f));
    const allowed = (f: string) =>
      f === "app.ts" || ["app/", "cli/", "demo/"].some((p) => f.startsWith(p));
    expect(openers.filter((f) => !allowed(f))).toEqual([]);
    // buildApp is used by the daemon's entry point and the demo only.
    const builders = graph
      .filter((m) => m.file !== "app.ts" && m.internal.includes("app.ts"))
      .map((m) => m.file)
      .sort();
    expect(builders).toEqual(["demo/runDemo.ts", "main.ts"]);
    // Nothing below the root imports it back (no cycle through src/app).
    const parts = graph.filter(
      (m) =>
        !(
          m.file === "app.ts" ||
          ["app/", "cli", "demo/", "main.ts"].some((p) => m.file.startsWith(p))
        ),
    );
    expect(violations(parts, (t) => !(t === "app.ts" || t.startsWith("app/")))).toEqual([]);
  });
});

describe("the README's layout", () => {
  it("lists every folder of src/", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const layout = readme.slice(readme.indexOf("Layout, by pipeline stage"));
    const folders = [...new Set(graph.map((m) => path.posix.dirname(m.file)))]
      .filter((d) => d !== ".")
      .map((d) => `src/${d}/`);
    expect(folders.length).toBeGreaterThan(15);
    expect(folders.filter((d) => !layout.includes(d))).toEqual([]);
  });
});

describe("files you can read in one sitting", () => {
  it("every file of src/ over 300 lines says why in its header", () => {
    const unexplained = graph
      .filter((m) => m.text.split("\n").length > 301)
      .filter(
        (m) =>
          !(
            m.text.startsWith("/**") &&
            m.text.slice(0, m.text.indexOf("*/")).includes("Over 300 lines")
          ),
      )
      .map((m) => m.file);
    expect(unexplained).toEqual([]);
  });
});
