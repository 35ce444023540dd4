/**
 * Resolves PostgreSQL and Redis once per test run, in this order (README "Development"):
 *   1. DATABASE_URL / REDIS_URL from the environment,
 *   2. the local defaults (127.0.0.1:5432 trust auth, 127.0.0.1:6379),
 *   3. testcontainers (machines with Docker),
 *   else one clear failure saying how to provide them.
 * Then migrates a template database that each test file clones (test/helpers/db.ts).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import pg from "pg";
import type { TestProject } from "vitest/node";

import { runMigrations } from "../src/store/migrate.js";
import { redisAnswers } from "./helpers/servers.js";
import { findLeakedSecrets, prepareSuiteLogDir } from "./helpers/suiteLogCheck.js";

const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";

interface Stoppable {
  stop(): Promise<unknown>;
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const HOW_TO =
  "Start PostgreSQL and Redis locally (127.0.0.1:5432 with trust auth, 127.0.0.1:6379), " +
  "or set DATABASE_URL and REDIS_URL to running servers, or run Docker so testcontainers can start them.";

async function resolvePostgres(started: Stoppable[]): Promise<string> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    if (await postgresAnswers(fromEnv)) {
      return fromEnv;
    }
    throw new Error(`DATABASE_URL is set but PostgreSQL does not answer there. ${HOW_TO}`);
  }
  if (await postgresAnswers(LOCAL_DATABASE_URL)) {
    return LOCAL_DATABASE_URL;
  }
  try {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer("postgres:16-alpine").start();
    started.push(container);
    return container.getConnectionUri();
  } catch (err) {
    throw new Error(
      `No PostgreSQL for the tests: nothing at ${LOCAL_DATABASE_URL} and testcontainers failed (${(err as Error).message}). ${HOW_TO}`,
    );
  }
}

async function resolveRedis(started: Stoppable[]): Promise<string> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    if (await redisAnswers(fromEnv)) {
      return fromEnv;
    }
    throw new Error(`REDIS_URL is set but Redis does not answer there. ${HOW_TO}`);
  }
  if (await redisAnswers(LOCAL_REDIS_URL)) {
    return LOCAL_REDIS_URL;
  }
  try {
    const { RedisContainer } = await import("@testcontainers/redis");
    const container = await new RedisContainer("redis:7-alpine").start();
    started.push(container);
    return container.getConnectionUrl();
  } catch (err) {
    throw new Error(
      `No Redis for the tests: nothing at ${LOCAL_REDIS_URL} and testcontainers failed (${(err as Error).message}). ${HOW_TO}`,
    );
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const started: Stoppable[] = [];
  const databaseUrl = await resolvePostgres(started);
  const redisUrl = await resolveRedis(started);

  const templateName = `vr_tpl_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create database ${templateName}`);
  const templatePool = new pg.Pool({ connectionString: withDatabase(databaseUrl, templateName) });
  try {
    await runMigrations(templatePool);
  } finally {
    await templatePool.end();
  }

  project.provide("databaseUrl", databaseUrl);
  project.provide("redisUrl", redisUrl);
  project.provide("templateDatabase", templateName);
  const suiteLogDir = join(tmpdir(), `vr-suite-logs-${randomBytes(4).toString("hex")}`);
  prepareSuiteLogDir(suiteLogDir);
  project.provide("suiteLogDir", suiteLogDir);

  return async () => {
    const leaks = findLeakedSecrets(suiteLogDir);
    rmSync(suiteLogDir, { recursive: true, force: true });
    await admin.query(`drop database if exists ${templateName} with (force)`).catch(() => {});
    await admin.end();
    for (const c of started.reverse()) {
      await c.stop();
    }
    if (leaks.length > 0) {
      throw new Error(`secrets or full test numbers reached the logs: ${leaks.join("; ")}`);
    }
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    templateDatabase: string;
    /** Where test/helpers/suiteLogs.ts keeps the run's daemon logs and secrets. */
    suiteLogDir: string;
  }
}
