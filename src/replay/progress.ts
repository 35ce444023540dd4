/**
 * Progress of a replay on stderr: a cli-progress bar (bytes read, receipts, rate, ETA) when
 * stderr is a terminal, otherwise a plain line every few seconds so that logs of a cron job or a
 * CI run show the run advancing. The summary line is not printed here (see summary.ts).
 */
import cliProgress from "cli-progress";

export interface ProgressSnapshot {
  phase: "reading" | "waiting";
  /** Bytes read from disk so far, of `bytesTotal` (compressed bytes for .gz files). */
  bytesDone: number;
  bytesTotal: number;
  read: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The file being read. */
  file: string;
  /** `waiting` phase: receipts the workers have applied, of `waitTotal`. */
  waitDone: number;
  waitTotal: number;
}

export interface Progress {
  start(snapshot: () => ProgressSnapshot): void;
  /** A message that must not be overwritten by the bar. */
  note(message: string): void;
  stop(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  if (n < 1024 * 1024 * 1024) {
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return "?";
  }
  const s = Math.round(ms / 1000);
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Receipts per second over the run so far. */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0;
}

/** The line printed every few seconds when stderr is not a terminal. */
export function progressLine(s: ProgressSnapshot, elapsedMs: number): string {
  if (s.phase === "waiting") {
    return `replay: waiting for the persist workers: ${s.waitDone}/${s.waitTotal} receipts applied`;
  }
  const share = s.bytesTotal > 0 ? s.bytesDone / s.bytesTotal : 1;
  const eta = share > 0 ? (elapsedMs * (1 - share)) / share : Infinity;
  return (
    `replay: ${Math.floor(share * 100)}% of ${formatBytes(s.bytesTotal)}, ${s.read} receipts read ` +
    `(${s.accepted} new, ${s.duplicates} duplicates, ${s.rejected} rejected), ` +
    `${rate(s.read, elapsedMs)}/s, ETA ${formatDuration(eta)}`
  );
}

/** No output at all (tests, `--quiet`-like callers). */
export function silentProgress(): Progress {
  return { start() {}, note() {}, stop() {} };
}

export function createProgress(stream: NodeJS.WriteStream, intervalMs = 5000): Progress {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream, intervalMs);
}

function lineProgress(stream: NodeJS.WritableStream, intervalMs: number): Progress {
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  return {
    start(snapshot) {
      started = Date.now();
      timer = setInterval(() => {
        stream.write(`${progressLine(snapshot(), Date.now() - started)}\n`);
      }, intervalMs);
      timer.unref();
    },
    note(message) {
      stream.write(`${message}\n`);
    },
    stop() {
      if (timer) {
        clearInterval(timer);
      }
    },
  };
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        "{phase} {bar} {percentage}% | {read} receipts | {rate}/s | ETA {eta_formatted} | {file}",
      barsize: 30,
      hideCursor: true,
      linewrap: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let waiting = false;
  const shorten = (file: string) => (file.length > 40 ? `…${file.slice(-39)}` : file);
  return {
    start(snapshot) {
      started = Date.now();
      const s = snapshot();
      bar.start(Math.max(1, s.bytesTotal), 0, {
        phase: "reading",
        read: 0,
        rate: 0,
        file: shorten(s.file),
      });
      timer = setInterval(() => {
        const now = snapshot();
        if (now.phase === "waiting" && !waiting) {
          waiting = true;
          bar.setTotal(Math.max(1, now.waitTotal));
        }
        bar.update(waiting ? now.waitDone : now.bytesDone, {
          phase: waiting ? "applying" : "reading",
          read: waiting ? now.waitDone : now.read,
          rate: rate(waiting ? now.waitDone : now.read, Date.now() - started),
          file: waiting ? "waiting for the persist workers" : shorten(now.file),
        });
      }, 200);
      timer.unref();
    },
    note(message) {
      if (bar.isActive) {
        // Clear the bar's line, print, and let the next render draw it again.
        stream.write(`\r\x1b[2K${message}\n`);
      } else {
        stream.write(`${message}\n`);
      }
    },
    stop() {
      if (timer) {
        clearInterval(timer);
      }
      if (bar.isActive) {
        bar.stop();
      }
    },
  };
}
