/**
 * Where `demo` runs: a database and a BullMQ prefix of its own, created at start beside the
 * DATABASE_URL database (`<database>_demo_<UTC stamp>`) and named on screen, kept afterwards for
 * inspection, removed by `demo --clean`. The DATABASE_URL database itself is only used to
 * connect; the demo never writes to it, nor to the production queue prefix.
 */
import pg from "pg";

import { redactUrl } from "../config/index.js";
import { ConfigError } from "../errors.js";
import { createRedis } from "../infra/redis.js";

export interface DemoTarget {
  database: string;
  url: string;
  queuePrefix: string;
}

function baseDatabase(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || "postgres";
}

function withDatabase(databaseUrl: string, database: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The names of one demo run; `now` makes them sortable and unique per second. */
export function demoTarget(databaseUrl: string, now = new Date()): DemoTarget {
  const stamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  // PostgreSQL names are at most 63 bytes: the base name is cut, the stamp kept.
  const database = `${baseDatabase(databaseUrl).slice(0, 40)}_demo_${stamp}`;
  return {
    database,
    url: withDatabase(databaseUrl, database),
    // A {hash tag} like the default prefix, so it works on a Redis Cluster too.
    queuePrefix: `{${database}}`,
  };
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function withAdmin<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDemoDatabase(databaseUrl: string, target: DemoTarget): Promise<void> {
  await withAdmin(databaseUrl, async (c) => {
    try {
      await c.query(`create database ${quoteIdent(target.database)}`);
    } catch (err) {
      throw new ConfigError(
        `demo: cannot create its database ${target.database} beside DATABASE_URL (${redactUrl(databaseUrl)}): ${(err as Error).message}; the demo needs a role allowed to CREATE DATABASE`,
      );
    }
  });
}

/**
 * Drops every demo database made beside the DATABASE_URL database (and only those: the name
 * must be `<database>_demo_<14 digits>`) and the Redis keys of their queue prefixes.
 */
export async function cleanDemos(
  env: { databaseUrl: string; redisUrl: string },
  out: (line: string) => void,
): Promise<string[]> {
  const base = baseDatabase(env.databaseUrl).slice(0, 40);
  const names = await withAdmin(env.databaseUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `select datname from pg_database
        where starts_with(datname, $1) and substr(datname, length($1) + 1) ~ '^[0-9]{14}$'
        order by datname`,
      [`${base}_demo_`],
    );
    for (const { datname } of rows) {
      await c.query(`drop database if exists ${quoteIdent(datname)} with (force)`);
      out(`dropped database ${datname}`);
    }
    return rows.map((r) => r.datname);
  });
  const redis = createRedis(env.redisUrl, "worker", "voice-receipts-demo-clean");
  try {
    for (const name of names) {
      let cursor = "0";
      let deleted = 0;
      do {
        // The prefix contains no glob characters besides the braces, which are literal.
        const [next, keys] = await redis.scan(cursor, "MATCH", `{${name}}*`, "COUNT", 1000);
        cursor = next;
        for (const key of keys) {
          deleted += await redis.del(key);
        }
      } while (cursor !== "0");
      out(`removed ${deleted} Redis keys under {${name}}`);
    }
  } finally {
    redis.disconnect();
  }
  if (names.length === 0) {
    out(`no demo databases beside ${base}`);
  }
  return names;
}
