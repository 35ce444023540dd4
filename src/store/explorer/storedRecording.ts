/**
 * The stored copy of one recording, for the explorer's player: by its id AND its call, so a
 * page can only play recordings of the call it shows. Through the recordings primary key.
 */
import type pg from "pg";

export interface StoredRecording {
  storage_key: string;
  content_type: string | null;
  bytes: number | null;
}

export const STORED_RECORDING_QUERY = `
  select r.storage_key, r.content_type, r.bytes::float8 as bytes
    from recordings r
   where r.id = $1 and r.call_id = $2 and r.fetch_status = 'stored' and r.storage_key is not null`;

/** The row when that recording of that call is stored; undefined otherwise (or a bad id). */
export async function findStoredRecording(
  pool: pg.Pool,
  callId: string,
  id: string,
): Promise<StoredRecording | undefined> {
  // bigserial ids only: anything else would be a cast error, i.e. a 500 for a typo.
  if (!/^[1-9]\d{0,17}$/.test(id)) {
    return undefined;
  }
  const { rows } = await pool.query<StoredRecording>(STORED_RECORDING_QUERY, [id, callId]);
  return rows[0];
}
