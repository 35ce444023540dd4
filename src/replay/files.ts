/**
 * The file side of `replay`: finding the files under the given paths, opening them (gzip is
 * recognised by its magic bytes, whatever the name), telling their format from their first
 * bytes, and turning them into a stream of records. Everything is streamed: memory holds one
 * chunk, one line or one JSON/XML element at a time, never a whole file.
 *
 * A gzip file that is cut short (or corrupt) yields everything decompressed before the damage,
 * then one bad record saying where the damage is; the run goes on with the next file.
 *
 * Over 300 lines: the three record readers (JSON lines, JSON, MNS XML) share the opening, gzip
 * damage handling and line accounting above them and are easiest to compare side by side.
 */
import { createReadStream, type ReadStream } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

import { describeJsonError } from "../domain/envelope.js";
import { rejectedText } from "../domain/json.js";
import { refuseUnsafeElements } from "../domain/jsonText.js";
import { ConfigError } from "../errors.js";
import { DecompressionBombError, decompressionLimit, splitLines } from "./bounded.js";
import { detectFormat, isReplayableName, SNIFF_BYTES, type ArchiveFormat } from "./formats.js";
import { JsonDocumentReader, JsonSyntaxError } from "./jsonStream.js";
import { badRecord, expandValue, isMnsMessage, type ReplayRecord } from "./records.js";
import { MnsXmlReader, XmlElementTooLargeError } from "./xmlStream.js";

/** An NDJSON line longer than this (bytes) is reported and skipped: memory stays bounded. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

export interface ReplayFile {
  /** Absolute path; also the file part of every `file:line` location. */
  path: string;
  size: number;
  /** Names to look for a message type in: the file's own name, then its directories up to the argument. */
  nameSegments: string[];
}

export interface CollectedFiles {
  files: ReplayFile[];
  /** Files inside the given directories whose names are not archives (`.json`, `.ndjson`, `.jsonl`, `.xml`, `.gz` of those). */
  ignored: string[];
}

/**
 * The files to replay, in a stable order: each argument in turn, directories walked recursively
 * in name order. Hidden entries and symbolic links to directories are not followed. A path that
 * does not exist is a usage error (exit 2) before anything is read.
 */
export async function collectFiles(paths: readonly string[]): Promise<CollectedFiles> {
  const files: ReplayFile[] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();
  const add = (path: string, size: number, nameSegments: string[]) => {
    if (!seen.has(path)) {
      seen.add(path);
      files.push({ path, size, nameSegments });
    }
  };

  /** Whether a symbolic link's target lies inside the named tree `root` (a real path). */
  const inside = async (full: string, root: string) => {
    const target = await realpath(full).catch(() => null);
    return target !== null && (target === root || target.startsWith(root + sep));
  };

  async function walk(dir: string, segments: string[], root: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) {
        continue;
      }
      const full = join(dir, entry.name);
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        // Never out of the named tree (a link to /etc/passwd must not end up in the database).
        if (!(await inside(full, root))) {
          ignored.push(full);
          continue;
        }
        isFile = await stat(full).then(
          (s) => s.isFile(),
          () => false,
        );
      }
      if (entry.isDirectory()) {
        await walk(full, [entry.name, ...segments], root);
      } else if (isFile) {
        if (isReplayableName(entry.name)) {
          add(full, (await stat(full)).size, [entry.name, ...segments]);
        } else {
          ignored.push(full);
        }
      }
    }
  }

  for (const arg of paths) {
    const path = resolve(arg);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(
        err.code === "ENOENT"
          ? `replay: no such file or directory: ${arg}`
          : `replay: cannot read ${arg}: ${err.message}`,
      );
    });
    if (info.isDirectory()) {
      await walk(path, [basename(path)], await realpath(path));
    } else {
      add(path, info.size, [basename(path), basename(dirname(path))]);
    }
  }
  return { files, ignored };
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

interface OpenedFile {
  /** Decompressed bytes; ends early (without throwing) when the gzip data is damaged. */
  chunks: AsyncIterable<Buffer>;
  /** The decompression error that ended `chunks`, if any. */
  damage(): Error | undefined;
  close(): void;
}

function openFile(path: string, gz: boolean, raw: ReadStream): OpenedFile {
  let damage: Error | undefined;
  let source: Readable = raw;
  if (gz) {
    // Streamed and capped: a bomb errors out of `limit` like damaged data (bounded.ts). pipe()
    // does not forward errors: a read or gunzip error ends the last stream too.
    const gunzip = createGunzip();
    const limit = decompressionLimit(() => raw.bytesRead);
    source = raw.pipe(gunzip).pipe(limit);
    raw.on("error", (err) => limit.destroy(err));
    gunzip.on("error", (err) => limit.destroy(err));
    limit.once("close", () => gunzip.destroy());
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) {
        yield chunk as Buffer;
      }
    } catch (err) {
      if (closed) {
        return; // closed on purpose (an abort): not damage
      }
      if (!gz) {
        throw err;
      }
      damage = err as Error;
    }
  }
  let closed = false;
  return {
    chunks: chunks(),
    damage: () => damage,
    close() {
      closed = true;
      source.destroy();
      raw.destroy();
    },
  };
}

/** The first SNIFF_BYTES of a file's (decompressed) text. */
async function readHead(path: string, gz: boolean): Promise<{ text: string; complete: boolean }> {
  const opened = openFile(path, gz, createReadStream(path));
  const parts: Buffer[] = [];
  let length = 0;
  let complete = true;
  try {
    for await (const chunk of opened.chunks) {
      parts.push(chunk);
      length += chunk.length;
      if (length >= SNIFF_BYTES) {
        complete = false;
        break;
      }
    }
  } finally {
    opened.close();
  }
  return { text: Buffer.concat(parts).subarray(0, SNIFF_BYTES).toString("utf8"), complete };
}

export interface FileReading {
  format: ArchiveFormat;
  gzip: boolean;
  /** Bytes of the file read from disk so far (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  records: AsyncGenerator<ReplayRecord>;
}

/**
 * Opens one file for reading; the records are produced as `records` is iterated. `signal`
 * stops the reading at once, whatever is being read (a bomb, a huge line). Anything a reader
 * throws becomes one bad record: bad input never stops the run.
 */
export async function readFile(file: ReplayFile, signal?: AbortSignal): Promise<FileReading> {
  const gz = await isGzip(file.path);
  const head = await readHead(file.path, gz);
  const format = detectFormat(file.path, head.text, head.complete);
  const raw = createReadStream(file.path, { highWaterMark: 64 * 1024 });
  const opened = openFile(file.path, gz, raw);
  const at = (line: number) => `${file.path}:${line}`;

  const stop = () => opened.close();
  signal?.addEventListener("abort", stop, { once: true });

  async function* records(): AsyncGenerator<ReplayRecord> {
    try {
      const read =
        format === "ndjson"
          ? ndjsonRecords(opened, at)
          : format === "json"
            ? jsonRecords(opened, at)
            : xmlRecords(opened, at);
      for await (const r of read) {
        if (signal?.aborted) {
          return; // what comes after an abort is the stream cut short, not the file
        }
        yield* r.records;
      }
    } catch (err) {
      if (signal?.aborted) {
        return;
      }
      const reason = `reading stopped (${err instanceof Error ? err.message : String(err)}); the rest of the file was skipped`;
      yield badRecord("", reason, at(0));
    } finally {
      signal?.removeEventListener("abort", stop);
      opened.close();
    }
  }

  return { format, gzip: gz, bytesRead: () => raw.bytesRead, records: records() };
}

interface LineRecords {
  line: number;
  records: ReplayRecord[];
}

/** The one record that reports damaged gzip data; `raw` is the unfinished input before it, if any. */
function damageRecord(damage: Error, line: number, raw: string, location: string): LineRecords {
  return {
    line,
    records: [
      badRecord(
        raw,
        damage instanceof DecompressionBombError
          ? `gzip data ${damage.message} at line ${line}; the receipts before it were kept`
          : `gzip data is truncated or corrupt (${damage.message}) at line ${line}; ` +
              "the receipts before it were kept",
        location,
      ),
    ],
  };
}

/** One JSON value (receipt, array of receipts, MNS message) per line; a bad line is reported, the next one read. */
async function* ndjsonRecords(
  opened: OpenedFile,
  at: (line: number) => string,
): AsyncGenerator<LineRecords> {
  let n = 0;
  // A bad line is held back one line: if it is the last one and the gzip data broke there, it
  // is reported as the damage instead.
  let held: { line: number; raw: string; record: LineRecords } | undefined;
  for await (const line of splitLines(opened.chunks, MAX_LINE_CHARS)) {
    n = line.n;
    if (held) {
      yield held.record;
      held = undefined;
    }
    if (line.kind === "bad") {
      yield { line: n, records: [badRecord(line.raw, line.reason, at(n))] };
      continue;
    }
    const raw = line.text;
    const text = (n === 1 ? raw.replace(/^\uFEFF/, "") : raw).trim();
    if (text === "") {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      const reason = `line is not valid JSON (${describeJsonError(err)})`;
      held = { line: n, raw, record: { line: n, records: [badRecord(raw, reason, at(n))] } };
      continue;
    }
    yield { line: n, records: expandValue(refuseUnsafeElements(text, value), at(n)) };
  }
  const damage = opened.damage();
  if (damage) {
    yield held && held.line === n
      ? damageRecord(damage, n, held.raw, at(n))
      : damageRecord(damage, n, "", at(n));
  } else if (held) {
    yield held.record;
  }
}

/** Strict streaming UTF-8: bytes that are not UTF-8 stop the file with one bad record. */
function utf8Stream() {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    write: (chunk: Buffer) => decoder.decode(chunk, { stream: true }),
    end: () => decoder.decode(),
  };
}

const notUtf8 = (line: number, at: (line: number) => string): LineRecords => ({
  line,
  records: [
    badRecord(
      "",
      `not valid UTF-8 text at line ${line}; the rest of the file was skipped`,
      at(line),
    ),
  ],
});

/** What the JSON and XML readers have in common: fed decoded text, emptied at the end. */
interface StreamingReader<T> {
  write(text: string): T[];
  end(): T[];
  readonly currentLine: number;
}

/**
 * The driver both element readers share: decode, feed, report gzip damage (with what the reader
 * still held), stop at text that is not UTF-8, and let `fatal` turn the reader's own unrecoverable
 * error into one bad record (anything else is rethrown).
 */
async function* readElements<T>(
  opened: OpenedFile,
  at: (line: number) => string,
  reader: StreamingReader<T>,
  emit: (items: T[]) => LineRecords[],
  heldRaw: () => string,
  fatal: (err: unknown) => LineRecords | undefined,
): AsyncGenerator<LineRecords> {
  const decoder = utf8Stream();
  try {
    for await (const chunk of opened.chunks) {
      yield* emit(reader.write(decoder.write(chunk)));
    }
    yield* emit(reader.write(decoder.end()));
    const damage = opened.damage();
    if (damage) {
      // An unfinished element is expected here: report the damage, not a syntax error.
      const line = reader.currentLine;
      yield damageRecord(damage, line, heldRaw(), at(line));
      return;
    }
    yield* emit(reader.end());
  } catch (err) {
    if (
      err instanceof TypeError &&
      (err as { code?: unknown }).code === "ERR_ENCODING_INVALID_ENCODED_DATA"
    ) {
      yield notUtf8(reader.currentLine, at);
      return;
    }
    const record = fatal(err);
    if (!record) {
      throw err;
    }
    yield record;
  }
}

/** JSON documents, element by element. A syntax error ends the file (JSON cannot be resynchronised). */
function jsonRecords(
  opened: OpenedFile,
  at: (line: number) => string,
): AsyncGenerator<LineRecords> {
  const reader = new JsonDocumentReader();
  return readElements(
    opened,
    at,
    reader,
    (values) => values.map((v) => ({ line: v.line, records: expandValue(v.value, at(v.line)) })),
    () => "",
    (err) =>
      err instanceof JsonSyntaxError
        ? {
            line: err.line,
            records: [
              badRecord(
                reader.context,
                `not valid JSON at line ${err.line} (${err.message}); the rest of the file was skipped`,
                at(err.line),
              ),
            ],
          }
        : undefined,
  );
}

/** MNS messages in XML; a malformed <Message> is reported and the next one read. */
function xmlRecords(opened: OpenedFile, at: (line: number) => string): AsyncGenerator<LineRecords> {
  const reader = new MnsXmlReader();
  return readElements(
    opened,
    at,
    reader,
    (items) =>
      items.map((item) => {
        if (item.kind === "error") {
          return { line: item.line, records: [badRecord(item.raw, item.reason, at(item.line))] };
        }
        if (!isMnsMessage(item.value)) {
          return {
            line: item.line,
            records: [
              badRecord(rejectedText(item.value), "<Message> has no <MessageBody>", at(item.line)),
            ],
          };
        }
        return { line: item.line, records: expandValue(item.value, at(item.line)) };
      }),
    () => reader.pending.slice(0, 4096),
    (err) =>
      err instanceof XmlElementTooLargeError
        ? {
            line: err.line,
            records: [
              badRecord("", `${err.message}; the rest of the file was skipped`, at(err.line)),
            ],
          }
        : undefined,
  );
}
