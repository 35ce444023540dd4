import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` uses this file; the daemon applies migrations itself
// (src/store/migrate.ts) under an advisory lock.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./migrations",
  strict: true,
  verbose: true,
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  },
});
