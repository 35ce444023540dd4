/**
 * Endpoint state (delivery_endpoints): paused endpoints, and `deliveries resume`.
 */
import type pg from "pg";

export interface EndpointState {
  url: string;
  failing_since: Date | null;
  last_success_at: Date | null;
  paused_at: Date | null;
}

export async function listEndpointStates(db: pg.Pool | pg.PoolClient): Promise<EndpointState[]> {
  const { rows } = await db.query<EndpointState>(
    "select url, failing_since, last_success_at, paused_at from delivery_endpoints order by url",
  );
  return rows;
}

/**
 * Resumes a paused endpoint: it is no longer failing, and its pending deliveries (which may
 * wait hours for their next scheduled retry) fall due now. Returns how many fell due, or null
 * when the endpoint was not paused.
 */
export async function resumeEndpoint(pool: pg.Pool, url: string): Promise<number | null> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const r = await client.query(
      `update delivery_endpoints set paused_at = null, failing_since = null, updated_at = now()
        where url = $1 and paused_at is not null`,
      [url],
    );
    if ((r.rowCount ?? 0) === 0) {
      await client.query("rollback");
      return null;
    }
    const d = await client.query(
      `update deliveries set due_at = least(due_at, now())
        where status = 'pending' and endpoint = $1`,
      [url],
    );
    await client.query("commit");
    return d.rowCount ?? 0;
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
