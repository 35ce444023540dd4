/**
 * `voice-receipts prune --older-than <duration> [--dry-run]`: drops the receipts and
 * call_events month partitions past retention (src/store/partitions.ts), and deletes the
 * recordings received before the cutoff with their stored objects (src/store/recordings/fetchPrune.ts). Only this module's
 * duration parser is loaded with the program; the rest is imported when the command runs.
 */
import { InvalidArgumentError } from "commander";

export interface Retention {
  amount: number;
  unit: "h" | "d" | "w" | "mo" | "y";
}

const RETENTION = /^([1-9]\d{0,4})(h|d|w|mo|y)$/;

/** `90d`, `12w`, `6mo`, `1y`, `36h`: commander's parser for --older-than (bad value: exit 2). */
export function parseRetention(text: string): Retention {
  const m = RETENTION.exec(text.trim());
  if (!m) {
    throw new InvalidArgumentError(
      "must be a whole number followed by h, d, w, mo or y (e.g. 90d, 12w, 6mo)",
    );
  }
  return { amount: Number(m[1]), unit: m[2] as Retention["unit"] };
}

/**
 * `now` minus the retention. Months and years are calendar ones (UTC), the day clamped to the
 * target month's length: 1mo before 31 March is 28/29 February, not 3 March (which would prune
 * more than asked).
 */
export function cutoffOf(r: Retention, now: Date): Date {
  const hour = 3600_000;
  switch (r.unit) {
    case "h":
      return new Date(now.getTime() - r.amount * hour);
    case "d":
      return new Date(now.getTime() - r.amount * 24 * hour);
    case "w":
      return new Date(now.getTime() - r.amount * 7 * 24 * hour);
    case "mo":
    case "y": {
      const months = r.unit === "y" ? r.amount * 12 : r.amount;
      const t = new Date(now);
      const target = now.getUTCFullYear() * 12 + now.getUTCMonth() - months;
      const year = Math.floor(target / 12);
      const month = target - year * 12;
      const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
      t.setUTCFullYear(year, month, Math.min(now.getUTCDate(), lastDay));
      return t;
    }
  }
}

/** What keeps a partition (src/store/partitions.ts countWaiting), per table. */
const WAITING: Record<string, string> = {
  receipts: "receipt(s) not applied yet",
  events: "event(s) with a delivery still pending",
  deliveries: "delivery attempt(s) still pending",
};

export interface PruneCommandOptions {
  olderThan: Retention;
  dryRun?: boolean;
}

export interface PruneIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  now?: Date;
}

export async function pruneCommand(
  opts: PruneCommandOptions,
  io: PruneIo = { env: process.env, stdout: process.stdout },
): Promise<void> {
  const { loadConfig } = await import("../config/index.js");
  const { createPool } = await import("../store/db.js");
  const { prunePartitions } = await import("../store/partitions.js");
  const { pruneRecordings } = await import("../store/recordings/fetchPrune.js");
  const { openObjectStore } = await import("../recordings/objectStore.js");
  const config = loadConfig(io.env);
  const store = await openObjectStore(config);
  const cutoff = cutoffOf(opts.olderThan, io.now ?? new Date());
  const pool = createPool(config.databaseUrl, {
    max: 1,
    connectionTimeoutMillis: 5000,
    applicationName: "voice-receipts prune",
  });
  try {
    const dryRun = opts.dryRun === true;
    const result = await prunePartitions(pool, { cutoff, dryRun });
    const out: string[] = [];
    const verb = dryRun ? "would drop" : "dropped";
    for (const p of result.dropped) {
      out.push(`${verb} ${p.name} (${p.table}, ${p.month.slice(0, 7)})`);
    }
    for (const p of result.refused) {
      out.push(
        `kept ${p.name}: ${p.unprocessed} ${WAITING[p.table]}; ` +
          "prune again once the workers are done with them",
      );
    }
    // Recordings received before the cutoff go with their stored objects.
    const recordings = await pruneRecordings(pool, {
      cutoff,
      dryRun,
      deleteObject: store ? (key) => store.delete(key) : undefined,
    });
    out.push(
      `${recordings.rows} recording(s) ${dryRun ? "would be deleted" : "deleted"} with ` +
        `${recordings.objects} stored object(s)${store ? ` in ${store.location}` : " (VMS_RECORDINGS_STORE=off: stored ones kept)"}`,
    );
    out.push(
      `${dryRun ? "dry run: " : ""}${result.dropped.length} partition(s) ` +
        `${dryRun ? "would be dropped" : "dropped"}, ` +
        `${result.refused.length} kept with rows in flight, cutoff ${cutoff.toISOString()} ` +
        "(calls and reports are not touched)",
    );
    io.stdout.write(`${out.join("\n")}\n`);
  } finally {
    store?.close();
    await pool.end().catch(() => {});
  }
}
