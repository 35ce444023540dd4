/**
 * One queue prefix, one database. BullMQ jobs carry only receipt ids, which mean something in
 * one database only: a daemon on database B sharing A's Redis and prefix would consume A's
 * persist jobs (and find nothing), and a database re-created under the same name restarts its
 * receipt ids at 1, so its jobs collide with the ids of completed jobs still kept in Redis and
 * BullMQ silently drops them.
 *
 * So the prefix records, on first use, which database it belongs to (`<prefix>:database`), and
 * every process refuses a prefix recorded for another one. A database is told apart by
 * PostgreSQL's system identifier (one per cluster, from initdb), its name, and its oid: the oid
 * is the incarnation — a database dropped and created again under the same name, restored from
 * a dump or cloned from a template gets a new one, without any state of ours to keep in step
 * (a random id stored in a table would be copied along by a clone or a restore). The short
 * `scope` derived from all three is folded into persist job ids, so that no two databases, nor
 * two incarnations of one, ever share a job id.
 */
import { createHash } from "node:crypto";

import type pg from "pg";

import { ConfigError } from "../errors.js";
import type { RedisConnection } from "../infra/redis.js";

export interface DatabaseIdentity {
  /** pg_control_system().system_identifier, or "unknown" where the role may not read it. */
  systemIdentifier: string;
  database: string;
  /** pg_database.oid: changes when the database is dropped and created again. */
  oid: string;
  /** 10 hex digits of a hash of the three: the persist job id prefix. */
  scope: string;
}

export async function readDatabaseIdentity(pool: pg.Pool): Promise<DatabaseIdentity> {
  const { rows } = await pool.query<{ database: string; oid: string }>(
    "select current_database() as database, oid::text as oid from pg_database where datname = current_database()",
  );
  const row = rows[0];
  if (!row) {
    throw new Error("current_database() is missing from pg_database");
  }
  let systemIdentifier = "unknown";
  try {
    const sys = await pool.query<{ id: string }>(
      "select system_identifier::text as id from pg_control_system()",
    );
    systemIdentifier = sys.rows[0]?.id ?? "unknown";
  } catch {
    // Managed PostgreSQL may refuse pg_control_system() to our role: name and oid still tell
    // databases of one server apart.
  }
  const scope = createHash("sha1")
    .update(`${systemIdentifier}/${row.database}/${row.oid}`)
    .digest("hex")
    .slice(0, 10);
  return { systemIdentifier, database: row.database, oid: row.oid, scope };
}

/** The key under the prefix that records its database. */
export const bindingKey = (prefix: string) => `${prefix}:database`;

/** The prefix belongs to another database (or an earlier incarnation of this one). */
export class PrefixBoundElsewhereError extends ConfigError {
  constructor(prefix: string, mine: DatabaseIdentity, theirs: Partial<DatabaseIdentity>) {
    const incarnation =
      theirs.database === mine.database && theirs.systemIdentifier === mine.systemIdentifier;
    super(
      `VMS_QUEUE_PREFIX ${prefix} belongs to ${
        incarnation
          ? `an earlier incarnation of database "${mine.database}" (oid ${theirs.oid ?? "?"}, now ${mine.oid}: dropped and created again, or restored)`
          : `database "${theirs.database ?? "?"}" (system ${theirs.systemIdentifier ?? "?"}), not "${mine.database}" (system ${mine.systemIdentifier})`
      }. Use one prefix per database: set VMS_QUEUE_PREFIX to a prefix of its own (e.g. {vr-${mine.database}}), ` +
        `or, if the old database is gone for good and its queue may be discarded, delete the key ${bindingKey(prefix)} in Redis`,
    );
  }
}

/**
 * Record the database under the prefix if nothing is recorded yet (SET NX, so two processes
 * starting at once agree), and throw PrefixBoundElsewhereError when another one is. Redis
 * errors propagate as they are (the caller decides whether that is an outage).
 */
export async function bindPrefix(
  redis: RedisConnection,
  prefix: string,
  identity: DatabaseIdentity,
): Promise<void> {
  const record = JSON.stringify({
    systemIdentifier: identity.systemIdentifier,
    database: identity.database,
    oid: identity.oid,
    boundAt: new Date().toISOString(),
  });
  const key = bindingKey(prefix);
  const set = await redis.set(key, record, "NX");
  if (set === "OK") {
    return;
  }
  const current = await redis.get(key);
  if (current === null) {
    // Deleted in between (an operator releasing it): take it.
    return bindPrefix(redis, prefix, identity);
  }
  let theirs: Partial<DatabaseIdentity> = {};
  try {
    theirs = JSON.parse(current) as Partial<DatabaseIdentity>;
  } catch {
    // An unreadable record is someone else's: refuse rather than guess.
  }
  if (
    theirs.systemIdentifier !== identity.systemIdentifier ||
    theirs.database !== identity.database ||
    theirs.oid !== identity.oid
  ) {
    throw new PrefixBoundElsewhereError(prefix, identity, theirs);
  }
}

export interface PrefixBinding {
  identity: DatabaseIdentity;
  /** Bind now (memoised once bound); rejects while Redis is unreachable or when refused. */
  ensure(): Promise<void>;
  /** Resolves once bound, however long Redis takes to appear; never rejects. */
  whenBound(): Promise<void>;
}

/**
 * The binding of a daemon's prefix. Checked at start when Redis is there (a refusal is then a
 * configuration error, exit 2); when Redis is missing at start, checked again each time the
 * connection becomes ready, and before any enqueue: nothing is queued or consumed under a
 * prefix that is not this database's. A refusal found after start is logged by the caller.
 */
export function createPrefixBinding(
  redis: RedisConnection,
  prefix: string,
  identity: DatabaseIdentity,
  onRefused: (err: PrefixBoundElsewhereError) => void,
): PrefixBinding {
  let bound: Promise<void> | undefined;
  let resolveBound!: () => void;
  const boundSignal = new Promise<void>((resolve) => {
    resolveBound = resolve;
  });
  const ensure = (): Promise<void> => {
    bound ??= bindPrefix(redis, prefix, identity).then(resolveBound, (err: unknown) => {
      bound = undefined;
      throw err;
    });
    return bound;
  };
  redis.on("ready", () => {
    ensure().catch((err: unknown) => {
      if (err instanceof PrefixBoundElsewhereError) {
        onRefused(err);
      }
    });
  });
  return { identity, ensure, whenBound: () => boundSignal };
}
