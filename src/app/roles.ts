/**
 * The roles a daemon process can run (`voice-receipts run --role`). Defined here, below both the
 * CLI and the composition root, so that neither imports the other for it.
 */
export const ROLES = ["all", "ingest", "worker"] as const;
export type Role = (typeof ROLES)[number];

/** Whether a process of this role serves the push routes and polls MNS. */
export const runsIngest = (role: Role): boolean => role === "all" || role === "ingest";
/** Whether a process of this role runs the BullMQ workers, the sweeper and the reconciler. */
export const runsWorker = (role: Role): boolean => role === "all" || role === "worker";
