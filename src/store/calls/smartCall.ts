/**
 * The smart-call callback's part of `calls`: every dialogue turn has its calls row, so reports
 * can join; the row is created (outbound, everything else NULL for the receipts to fill) in the
 * same statement as the turn (../dialogueTurns/turns.ts), one round trip for both.
 */

/** A CTE creating the call `callId` (a parameter reference, e.g. `$1`) when it is missing. */
export const ensureCallSql = (callId: string) => `with new_call as (
  insert into calls (call_id, direction) values (${callId}, 'outbound') on conflict (call_id) do nothing
)`;
