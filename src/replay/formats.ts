/**
 * Pure rules of `replay` (README "Replaying archives"): which archive format a file is in, which
 * message type its name implies, and which files a directory walk picks up. No I/O here; the
 * readers in `files.ts` feed these functions the file name and the first bytes of the
 * (decompressed) text.
 */
import { basename } from "node:path";

/**
 * - `json`: JSON documents (a top-level array of receipts or MNS messages, a single object, or
 *   several concatenated values), streamed element by element with stream-json;
 * - `ndjson`: one JSON value (a receipt, an array of receipts, an MNS message) per line;
 * - `xml`: MNS messages as XML (`<Messages><Message>…` BatchReceiveMessage dumps, or `<Message>`).
 */
export type ArchiveFormat = "json" | "ndjson" | "xml";

/** Receipt types whose name a file name may carry; longest first so no name shadows another. */
export const FILE_NAME_TYPES = ["VoiceRecordReport", "VoiceCallReport", "VoiceReport"] as const;

/** Extensions a directory walk picks up (each also with `.gz`); explicit file arguments are read whatever their name. */
const REPLAYABLE = /\.(json|ndjson|jsonl|xml)(\.gz)?$/i;

/** How much of a file's text `detectFormat` needs to see. */
export const SNIFF_BYTES = 64 * 1024;

export function isReplayableName(name: string): boolean {
  return !basename(name).startsWith(".") && REPLAYABLE.test(name);
}

/** `a.json.gz` → `a.json` */
export function stripGz(name: string): string {
  return name.replace(/\.gz$/i, "");
}

/**
 * The message type named by a file or directory name, e.g. `VoiceReport-2026-11-20.ndjson.gz` or
 * an MNS queue dump `Alicom-Queue-1234567890123456-VoiceCallReport.xml` (case-insensitive).
 * `segments` are the path's components, nearest (the file's own name) first; the first one that
 * names a type wins, so `VoiceReport/VoiceCallReport-1.json` is a VoiceCallReport file.
 */
export function typeFromPath(segments: readonly string[]): string | null {
  for (const segment of segments) {
    const lower = segment.toLowerCase();
    for (const type of FILE_NAME_TYPES) {
      if (lower.includes(type.toLowerCase())) {
        return type;
      }
    }
  }
  return null;
}

/** A message type given on the command line: an identifier (unknown types are kept as they are). */
export function isValidTypeName(type: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(type);
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The format of a file from its name and the start of its text (`head`, at most SNIFF_BYTES of
 * it; `complete` when that is the whole file).
 *
 * - `.ndjson` / `.jsonl` are line files and `.xml` is XML, whatever they contain;
 * - text starting with `<` is XML;
 * - text starting with `[` or `{` is NDJSON when its first line is a whole JSON value and more
 *   values follow on the next lines, otherwise a JSON document (pretty-printed arrays and objects,
 *   one long minified line);
 * - anything else is read line by line, so that every line that is not JSON is reported with
 *   its number.
 */
export function detectFormat(name: string, head: string, complete: boolean): ArchiveFormat {
  const plain = stripGz(basename(name)).toLowerCase();
  if (plain.endsWith(".ndjson") || plain.endsWith(".jsonl")) {
    return "ndjson";
  }
  if (plain.endsWith(".xml")) {
    return "xml";
  }
  const text = head.replace(/^\uFEFF/, "");
  const first = /\S/.exec(text);
  if (!first) {
    return "json";
  }
  const c = first[0];
  if (c === "<") {
    return "xml";
  }
  if (c !== "[" && c !== "{") {
    return "ndjson";
  }
  const nl = text.indexOf("\n", first.index);
  if (nl === -1) {
    // One line: a single document, or the start of a line longer than SNIFF_BYTES. The JSON
    // reader accepts concatenated values too, so it is right in both cases.
    return "json";
  }
  if (!parses(text.slice(first.index, nl))) {
    return "json";
  }
  const rest = text.slice(nl + 1);
  const next = /\S/.exec(rest);
  if (!next) {
    return complete ? "json" : "ndjson";
  }
  return next[0] === "{" || next[0] === "[" ? "ndjson" : "json";
}
