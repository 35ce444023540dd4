/**
 * Streaming reader of MNS message dumps in XML: BatchReceiveMessage answers
 * (`<Messages xmlns="…"><Message>…</Message>…</Messages>`), single ReceiveMessage answers
 * (`<Message>…</Message>`), or many of them concatenated in one file.
 *
 * The text is scanned for `<Message …>…</Message>` elements; each one is validated and parsed
 * on its own with fast-xml-parser, so memory holds one element at a time (bounded by
 * MAX_ELEMENT_CHARS) and a malformed message is reported with its line while the others are
 * still read. Everything outside the elements (the XML declaration, `<Messages>`, a DOCTYPE) is
 * skipped, which also means no document-level entity is ever expanded. Synchronous and pure.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

import type { JsonObject } from "../domain/json.js";

/** One `<Message>` element is at most this long (MNS bodies are at most 64 KiB). */
export const MAX_ELEMENT_CHARS = 4 * 1024 * 1024;

/** A `<Message>` element over MAX_ELEMENT_CHARS: the rest of the file cannot be read in bounded memory. */
export class XmlElementTooLargeError extends Error {
  constructor(readonly line: number) {
    super(`a <Message> element longer than ${MAX_ELEMENT_CHARS} characters starts at line ${line}`);
    this.name = "XmlElementTooLargeError";
  }
}

export type XmlItem =
  | { kind: "message"; value: JsonObject; line: number }
  | { kind: "error"; reason: string; raw: string; line: number };

const START = /<Message(?=[\s>/])/g;
const END = /<\/Message\s*>/g;
/** Kept from skipped text in case a start tag is split across two writes. */
const START_TAIL = "<Message".length;

const OPTIONS = {
  ignoreAttributes: true,
  // MessageBody and MessageId stay text: Base64 or ids that look like numbers must not change.
  parseTagValue: false,
  removeNSPrefix: true,
  processEntities: true,
} as const;
const parser = new XMLParser(OPTIONS);
/** Also decodes numeric character references (&#49;); 2-3x slower, so used only when one occurs. */
const parserWithCharRefs = new XMLParser({ ...OPTIONS, htmlEntities: true });

function countLines(text: string, from = 0, to = text.length): number {
  let n = 0;
  for (let i = text.indexOf("\n", from); i !== -1 && i < to; i = text.indexOf("\n", i + 1)) {
    n++;
  }
  return n;
}

/** MNS never sends these; inside a <Message> they could define entities the parser expands. */
const DECLARATION = /<!(?:DOCTYPE|ENTITY)/i;

export function parseMessageElement(element: string): JsonObject | string {
  if (DECLARATION.test(element)) {
    return "malformed XML: a DOCTYPE or entity declaration inside <Message> is refused (entities are never expanded)";
  }
  const valid = XMLValidator.validate(element);
  if (valid !== true) {
    return `malformed XML: ${valid.err.msg}`;
  }
  let parsed: { Message?: unknown };
  try {
    parsed = (element.includes("&#") ? parserWithCharRefs : parser).parse(element) as {
      Message?: unknown;
    };
  } catch (err) {
    // fast-xml-parser throws on a DOCTYPE / entity declaration inside the element (it never
    // expands them): this message is refused, the next one read.
    return `malformed XML: ${err instanceof Error ? err.message : String(err)}`;
  }
  const message = parsed.Message;
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return "<Message> has no child elements (no <MessageBody>)";
  }
  return message as JsonObject;
}

export class MnsXmlReader {
  private buf = "";
  /** Line number of buf[0]. */
  private line = 1;
  private inElement = false;
  private messages = 0;
  private tooLarge: Error | undefined;

  get messagesSeen(): number {
    return this.messages;
  }

  get currentLine(): number {
    return this.line;
  }

  /** Text read but not yet consumed: the start of an unfinished element, if any. */
  get pending(): string {
    return this.inElement ? this.buf : "";
  }

  write(text: string): XmlItem[] {
    if (this.tooLarge) {
      throw this.tooLarge;
    }
    this.buf += text;
    return this.scan(false);
  }

  /** End of input: an element left open means the file was cut short. */
  end(): XmlItem[] {
    if (this.tooLarge) {
      throw this.tooLarge;
    }
    const out = this.scan(true);
    if (this.inElement) {
      out.push({
        kind: "error",
        reason: "the file ends inside a <Message> element",
        raw: this.buf,
        line: this.line,
      });
      this.buf = "";
    }
    return out;
  }

  private skip(to: number): void {
    this.line += countLines(this.buf, 0, to);
    this.buf = this.buf.slice(to);
  }

  private scan(final: boolean): XmlItem[] {
    const out: XmlItem[] = [];
    for (;;) {
      if (!this.inElement) {
        START.lastIndex = 0;
        const start = START.exec(this.buf);
        if (!start) {
          // Keep a tail that may be the beginning of a start tag cut by the write boundary.
          this.skip(final ? this.buf.length : Math.max(0, this.buf.length - START_TAIL));
          return out;
        }
        this.skip(start.index);
        this.inElement = true;
      }
      const open = this.buf.indexOf(">");
      if (open !== -1 && this.buf[open - 1] === "/") {
        // <Message/>: an empty message.
        out.push({
          kind: "error",
          reason: "empty <Message/> element",
          raw: this.buf.slice(0, open + 1),
          line: this.line,
        });
        this.messages++;
        this.skip(open + 1);
        this.inElement = false;
        continue;
      }
      END.lastIndex = 0;
      const end = END.exec(this.buf);
      if (!end) {
        if (this.buf.length > MAX_ELEMENT_CHARS) {
          // Thrown by the next call, so that the messages before it are returned first.
          this.tooLarge = new XmlElementTooLargeError(this.line);
        }
        return out;
      }
      const stop = end.index + end[0].length;
      const element = this.buf.slice(0, stop);
      const parsed = parseMessageElement(element);
      out.push(
        typeof parsed === "string"
          ? { kind: "error", reason: parsed, raw: element, line: this.line }
          : { kind: "message", value: parsed, line: this.line },
      );
      this.messages++;
      this.skip(stop);
      this.inElement = false;
    }
  }
}
