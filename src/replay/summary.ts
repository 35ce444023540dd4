/** The one line `replay` ends with. Pure. */
import { rate } from "./progress.js";
import type { ReplaySummary } from "./replay.js";

/** How many rejected locations the summary line names. */
export const SUMMARY_REJECTED_SHOWN = 3;

export function summaryLine(s: ReplaySummary, options: { reconcile: boolean }): string {
  const parts: string[] = [];
  const rejected =
    s.rejected === 0
      ? "0 rejected"
      : `${s.rejected} rejected (${s.firstRejected
          .slice(0, SUMMARY_REJECTED_SHOWN)
          .map((r) => r.location)
          .join(", ")}${s.rejected > SUMMARY_REJECTED_SHOWN ? ", …" : ""})`;
  parts.push(
    `${s.read} receipts read from ${s.files} ${s.files === 1 ? "file" : "files"}: ` +
      `${s.accepted} new, ${s.duplicates} duplicates, ${rejected}`,
  );
  if (s.mode === "apply") {
    parts.push(
      `${s.applied} applied${s.deadLettered > 0 ? `, ${s.deadLettered} dead-lettered` : ""}`,
    );
  } else if (s.mode === "queue") {
    parts.push(`${s.queued} queued for the persist workers`);
  } else {
    parts.push(
      `${s.applied} applied by the persist workers${s.queued > 0 ? `, ${s.queued} still queued` : ""}`,
    );
  }
  if (!options.reconcile) {
    parts.push(`${s.skippedCalls} calls marked reconcile_status=skipped`);
  }
  parts.push(`${(s.elapsedMs / 1000).toFixed(1)} s, ${rate(s.read, s.elapsedMs)} receipts/s`);
  return `${s.interrupted ? "replay interrupted" : "replay"}: ${parts.join("; ")}`;
}
