/**
 * What an operator should read when a command fails on its surroundings rather than on its
 * input: which setting is involved (DATABASE_URL with the password hidden, VMS_PUSH_PORT,
 * VMS_METRICS_PORT) and what to do, the way the config loader names bad variables. Used once,
 * at the CLI edge (src/cli.ts).
 *
 * Exit codes: 2 when the operator must change something before a retry can succeed (a port
 * taken, credentials refused, a database that does not exist or is not migrated); 1 when the
 * same command may succeed later by itself (PostgreSQL not reachable yet).
 */
import { redactUrl } from "../config/index.js";

export interface Explained {
  code: 1 | 2;
  message: string;
}

type Env = Record<string, string | undefined>;

const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_PUSH_PORT = 8080;

interface ErrnoLike {
  code?: unknown;
  port?: unknown;
  address?: unknown;
  message?: unknown;
}

/** The error and everything it wraps (cause chain, AggregateError's errors), depth-first. */
function* chain(err: unknown, depth = 0): Generator<ErrnoLike> {
  if (depth > 8 || err === null || typeof err !== "object") {
    return;
  }
  yield err as ErrnoLike;
  if (err instanceof AggregateError) {
    for (const e of err.errors) {
      yield* chain(e, depth + 1);
    }
  }
  yield* chain((err as { cause?: unknown }).cause, depth + 1);
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ETIMEDOUT: "connection timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ECONNRESET: "connection reset",
};

export function explainError(err: unknown, env: Env): Explained | undefined {
  const dbUrl = env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const db = `DATABASE_URL=${redactUrl(dbUrl)}`;
  for (const e of chain(err)) {
    const code = typeof e.code === "string" ? e.code : "";
    if (code === "EADDRINUSE") {
      return portInUse(e, env);
    }
    if (UNREACHABLE[code] !== undefined && isDatabase(e, dbUrl)) {
      return {
        code: 1,
        message: `cannot reach PostgreSQL at ${db} (${UNREACHABLE[code]}): start PostgreSQL there, or set DATABASE_URL to where it runs`,
      };
    }
    // SQLSTATEs (PostgreSQL's own errors carry them as `code`).
    if (code === "42P01") {
      return {
        code: 2,
        message: `the database at ${db} has no voice-receipts schema (${String(e.message)}): run \`voice-receipts migrate\` with the same DATABASE_URL first`,
      };
    }
    if (code === "3D000") {
      return {
        code: 2,
        message: `${String(e.message)}: create it, or set DATABASE_URL (${db}) to an existing database`,
      };
    }
    if (code === "28P01" || code === "28000") {
      return {
        code: 2,
        message: `PostgreSQL refused the user or password of ${db} (${String(e.message)}): fix DATABASE_URL`,
      };
    }
  }
  return undefined;
}

/** Whether a connection error is about DATABASE_URL's server (and not, say, Redis's). */
function isDatabase(e: ErrnoLike, dbUrl: string): boolean {
  if (typeof e.port !== "number") {
    // pg's errors without an address (a DNS failure) name no port: the message may name the host.
    try {
      return String(e.message).includes(new URL(dbUrl).hostname);
    } catch {
      return false;
    }
  }
  try {
    return e.port === Number(new URL(dbUrl).port || 5432);
  } catch {
    return false;
  }
}

function portInUse(e: ErrnoLike, env: Env): Explained {
  const port = typeof e.port === "number" ? e.port : undefined;
  const where = typeof e.address === "string" ? ` on ${e.address}` : "";
  const settings: [string, number | undefined][] = [
    ["VMS_PUSH_PORT", env.VMS_PUSH_PORT ? Number(env.VMS_PUSH_PORT) : DEFAULT_PUSH_PORT],
    ["VMS_METRICS_PORT", env.VMS_METRICS_PORT ? Number(env.VMS_METRICS_PORT) : undefined],
  ];
  const setting = settings.find(([, p]) => p !== undefined && p === port)?.[0];
  return {
    code: 2,
    message: setting
      ? `port ${port} (${setting}) is already in use${where}: stop what listens there, or set ${setting} to a free port`
      : `port ${port ?? "?"} is already in use${where}: stop what listens there, or choose another port`,
  };
}
