/**
 * `voice-receipts dialogue <call_id> [--format table|json]`: the conversation of one smart call,
 * read from the `transcripts` view (so `psql` shows the same thing), with what was answered to
 * each turn and by whom.
 */
import Table from "cli-table3";

import { loadConfig } from "../config/index.js";
import { formatBeijingTime } from "../domain/time.js";
import { AppError } from "../errors.js";
import { createPool } from "../store/db.js";

export type DialogueFormat = "table" | "json";

export interface DialogueOptions {
  format: DialogueFormat;
  env?: Record<string, string | undefined>;
  /** Where the output goes; default stdout. */
  out?: (text: string) => void;
}

/** One element of transcripts.conversation. */
export interface TranscriptTurn {
  turn_time: string;
  role: string | null;
  content_type: string;
  words: string | null;
  dtmf: string | null;
  begin_offset_ms: number | null;
  end_offset_ms: number | null;
  action: string | null;
  action_code: string | null;
  answered_by: string | null;
  answered_reason: string | null;
  latency_ms: number | null;
  deliveries: number;
}

export interface Transcript {
  call_id: string;
  out_id: string | null;
  caller: string | null;
  callee: string | null;
  turns: number;
  first_turn_at: Date;
  last_turn_at: Date;
  conversation: TranscriptTurn[];
  text: string;
}

export async function readTranscript(
  pool: { query: (text: string, values: unknown[]) => Promise<{ rows: unknown[] }> },
  callId: string,
): Promise<Transcript | undefined> {
  const { rows } = await pool.query(
    `select call_id, out_id, caller, callee, turns, first_turn_at, last_turn_at, conversation, text
       from transcripts where call_id = $1`,
    [callId],
  );
  return rows[0] as Transcript | undefined;
}

/** `HH:mm:ss.SSS` Beijing time (the date is in the header). */
function clock(iso: string): string {
  const d = new Date(iso);
  return `${formatBeijingTime(d).slice(11)}.${String(d.getUTCMilliseconds()).padStart(3, "0")}`;
}

export function renderTranscriptTable(t: Transcript): string {
  const header = [
    `call ${t.call_id}${t.out_id ? `  out_id ${t.out_id}` : ""}`,
    `${t.turns} turn${t.turns === 1 ? "" : "s"}, ${formatBeijingTime(new Date(t.first_turn_at))} – ${formatBeijingTime(new Date(t.last_turn_at)).slice(11)} (Beijing time)`,
  ];
  const table = new Table({
    head: ["time", "role", "type", "said", "answer", "by", "ms"],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const turn of t.conversation) {
    // As in the view's text: words, else [keys], else (content_type).
    const said = turn.words ?? (turn.dtmf !== null ? `[${turn.dtmf}]` : `(${turn.content_type})`);
    const answer =
      turn.action === null
        ? "(not recorded)"
        : `${turn.action}${turn.action_code ? ` ${turn.action_code}` : ""}`;
    table.push([
      clock(turn.turn_time),
      turn.role ?? "",
      turn.content_type,
      said,
      answer,
      turn.answered_by ?? "",
      turn.latency_ms === null ? "" : String(turn.latency_ms),
    ]);
  }
  return `${header.join("\n")}\n${table.toString()}\n`;
}

export async function dialogueCommand(callId: string, options: DialogueOptions): Promise<void> {
  const config = loadConfig(options.env ?? process.env);
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const pool = createPool(config.databaseUrl, { max: 1, connectionTimeoutMillis: 5000 });
  try {
    const transcript = await readTranscript(pool, callId);
    if (!transcript) {
      throw new AppError("NOT_FOUND", `no smart-call dialogue stored for call_id ${callId}`);
    }
    out(
      options.format === "json"
        ? `${JSON.stringify(transcript, null, 2)}\n`
        : renderTranscriptTable(transcript),
    );
  } finally {
    await pool.end();
  }
}
