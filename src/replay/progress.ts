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
  /** Ctrl-C: print why the run is ending; the bar, if any, says "stopping" from then on. */
  stopping(message: string): void;
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

/** No output at all (tests). */
export function silentProgress(): Progress {
  return { start() {}, note() {}, stopping() {}, stop() {} };
}

/**
 * `--no-progress`: no bar and no periodic lines, but the notes still reach the operator (a
 * warning that no worker is connected, the stopping message): they are not progress.
 */
export function notesOnlyProgress(stream: NodeJS.WritableStream): Progress {
  return {
    start() {},
    note(message) {
      stream.write(`${message}\n`);
    },
    stopping(message) {
      stream.write(`${message}\n`);
    },
    stop() {},
  };
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
    stopping(message) {
      stream.write(`${message}\n`);
    },
    stop() {
      if (timer) {
        clearInterval(timer);
      }
    },
  };
}

/** What one frame of the bar shows. */
export interface BarFields {
  phase: string;
  /** 0..1 of the bytes read (or of the receipts applied while waiting). */
  share: number;
  read: number;
  rate: number;
  eta: string;
  file: string;
}

/** `…` and the end of `text`, `width` characters in all (the end of a path names the file). */
export function elideStart(text: string, width: number): string {
  if (text.length <= width) {
    return text;
  }
  return width <= 1 ? "…".slice(0, width) : `…${text.slice(text.length - (width - 1))}`;
}

/**
 * One frame of the bar, never wider than `columns - 1` (writing the last column makes some
 * terminals wrap, and a wrapped bar redraws on a new line each time). The file name gets what
 * the figures leave and loses its beginning first; the bar narrows on small terminals.
 * Hand-written because cli-progress truncates the end of an over-long line, which is exactly
 * the file name.
 */
export function barLine(f: BarFields, columns: number): string {
  const max = Math.max(20, columns - 1);
  const pct = `${String(Math.min(100, Math.floor(f.share * 100))).padStart(3)}%`;
  const figures = `${pct} ${f.read} receipts ${f.rate}/s ETA ${f.eta}`;
  const phase = f.phase.padEnd(9);
  // The file name (up to 40 characters of its end) comes before the bar's width.
  const wanted = f.file ? Math.min(f.file.length, 40) + 3 : 0;
  let barWidth = Math.min(30, max - phase.length - figures.length - wanted - 1);
  if (barWidth < 8) {
    barWidth = 0;
  }
  const filled = Math.round(Math.min(1, Math.max(0, f.share)) * barWidth);
  const bar = barWidth > 0 ? `${"█".repeat(filled)}${"░".repeat(barWidth - filled)} ` : "";
  const head = `${phase}${bar}${figures}`;
  const room = max - head.length - 3;
  const line = room >= 8 && f.file ? `${head} | ${elideStart(f.file, room)}` : head;
  return line.slice(0, max);
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  let fields: BarFields = { phase: "reading", share: 0, read: 0, rate: 0, eta: "?", file: "" };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: () => barLine(fields, stream.columns || 80),
      hideCursor: true,
      // Our lines always fit; a wrapping bar would redraw on a new line at every frame.
      linewrap: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let stopping = false;
  let snapshot: (() => ProgressSnapshot) | undefined;
  const refresh = () => {
    if (!snapshot) {
      return;
    }
    const now = snapshot();
    const waiting = now.phase === "waiting";
    const elapsed = Date.now() - started;
    const share = waiting
      ? now.waitDone / Math.max(1, now.waitTotal)
      : now.bytesDone / Math.max(1, now.bytesTotal);
    const done = waiting ? now.waitDone : now.read;
    fields = {
      phase: stopping ? "stopping" : waiting ? "applying" : "reading",
      share,
      read: done,
      rate: rate(done, elapsed),
      eta: stopping ? "-" : formatDuration(share > 0 ? (elapsed * (1 - share)) / share : Infinity),
      file: waiting ? "waiting for the persist workers" : now.file,
    };
    // The bar's own value is not shown (barLine draws from `fields`); it only triggers a render.
    bar.update(Math.round(share * 1000));
  };
  return {
    start(snap) {
      started = Date.now();
      snapshot = snap;
      bar.start(1000, 0);
      refresh();
      timer = setInterval(refresh, 200);
      timer.unref();
    },
    stopping(message) {
      stopping = true;
      this.note(message);
    },
    note(message) {
      if (bar.isActive) {
        // Clear the bar's line, print, and let the next render draw it again.
        stream.write(`\r\x1b[2K${message}\n`);
        refresh();
      } else {
        stream.write(`${message}\n`);
      }
    },
    stop() {
      if (timer) {
        clearInterval(timer);
      }
      if (bar.isActive) {
        // The last frame shows where the run stopped, not a completed bar.
        refresh();
        bar.stop();
      }
    },
  };
}
