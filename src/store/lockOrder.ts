/**
 * The one lock order of the store: statements that touch several `calls` (or `call_events`,
 * `recordings`) rows take them sorted by call_id, so two concurrent statements never wait on
 * each other's rows in opposite orders (deadlock, 40P01).
 */
export const byCallId = (a: { callId: string }, b: { callId: string }): number =>
  a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0;
