/**
 * `voice-receipts recordings fetch [--since D] [--call ID]` and `recordings get <call_id>
 * [-o FILE]`. Only the option parsing is loaded with the program; the work is in
 * src/cli/recordingsWork.ts, imported when a subcommand runs.
 */
import { Command, InvalidArgumentError } from "commander";

/** `--since`: an ISO date or date-time (UTC unless it says otherwise). */
export function parseSince(text: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? `${text.trim()}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError("must be a date YYYY-MM-DD or an ISO date-time");
  }
  return d;
}

export function recordingsCommand(): Command {
  const recordings = new Command("recordings").description(
    "recordings kept in VMS_RECORDINGS_STORE: backfill and read back",
  );
  recordings
    .command("fetch")
    .description(
      "download now every recording not stored yet (failed, skipped and due ones; e.g. after a replay), with progress",
    )
    .option("--since <date>", "only recordings received at or after this date (UTC)", parseSince)
    .option("--call <call_id>", "only the recordings of this call")
    .action(async (opts: { since?: Date; call?: string }) => {
      const { fetchCommand } = await import("./recordingsWork.js");
      await fetchCommand(opts);
    });
  recordings
    .command("get")
    .description("write a stored recording to FILE (or stdout), checked against its sha256")
    .argument("<call_id>", "the call whose recording to read")
    .option("-o, --output <file>", "write here instead of stdout")
    .action(async (callId: string, opts: { output?: string }) => {
      const { getCommand } = await import("./recordingsWork.js");
      await getCommand(callId, opts);
    });
  return recordings;
}
