/**
 * Streaming reader of JSON documents on top of stream-json's tokenizer: gives the elements of a
 * top-level array (and any top-level value that is not an array; several concatenated values
 * are fine) one at a time, each with the line it starts on, holding only the current element in
 * memory whatever the size of the file.
 *
 * Line numbers: text is fed to the tokenizer one line segment at a time, so every token it
 * returns from a call belongs to the line of that segment (a long line arrives as several
 * segments of the same line). Synchronous and pure: the file plumbing is in files.ts.
 */
import Assembler from "stream-json/core/assembler.js";
import { jsonParser, type Token } from "stream-json/core/parser.js";

/**
 * stream-chain's protocol values (a tokenizer call returns `none` or a `many` wrapper; calling it
 * with `none` flushes). They are registered symbols, so we name them here instead of importing
 * stream-chain, which is stream-json's dependency rather than ours.
 */
const NONE = Symbol.for("object-stream.none");
const MANY = Symbol.for("object-stream.many");

type Tokenizer = (chunk: string | typeof NONE) => unknown;

function tokensOf(result: unknown): readonly Token[] {
  if (result === NONE || result === undefined) {
    return [];
  }
  if (typeof result === "object" && result !== null && MANY in result) {
    return (result as unknown as { values: Token[] }).values;
  }
  return [result as Token];
}

export interface ParsedValue {
  value: unknown;
  /** 1-based line the value starts on. */
  line: number;
}

/** A syntax error, with the line where the tokenizer gave up. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

export class JsonDocumentReader {
  private readonly tokenize: Tokenizer;
  private assembler: Assembler | null = null;
  private startLine = 0;
  private inTopArray = false;
  private line = 1;
  private started = false;
  private out: ParsedValue[] = [];
  private lastSegment = "";
  private pending: JsonSyntaxError | undefined;

  constructor() {
    this.tokenize = jsonParser({
      packValues: true,
      streamValues: false,
      jsonStreaming: true,
    }) as unknown as Tokenizer;
  }

  /** The line the reader is on (the last line it was given text of). */
  get currentLine(): number {
    return this.line;
  }

  /** The last piece of text fed (at most 200 characters), to show with a syntax error. */
  get context(): string {
    return this.lastSegment;
  }

  /**
   * Feeds text (any length, any split); returns the values completed by it. A syntax error is
   * thrown by the next call, so that the values before it in the same text are returned first.
   */
  write(text: string): ParsedValue[] {
    this.throwPending();
    let chunk = text;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      chunk = chunk.replace(/^\uFEFF/, "");
    }
    let from = 0;
    try {
      while (from < chunk.length) {
        const nl = chunk.indexOf("\n", from);
        const end = nl === -1 ? chunk.length : nl + 1;
        const segment = chunk.slice(from, end);
        this.lastSegment = segment.length > 200 ? segment.slice(0, 200) : segment;
        this.feed(segment);
        if (nl !== -1) {
          this.line++;
        }
        from = end;
      }
    } catch (err) {
      this.pending = err as JsonSyntaxError;
    }
    return this.take();
  }

  /** End of input: returns the last values; throws JsonSyntaxError on bad or unfinished JSON. */
  end(): ParsedValue[] {
    this.throwPending();
    this.feed(NONE);
    if (this.assembler !== null || this.inTopArray) {
      throw new JsonSyntaxError(
        `JSON ends in the middle of ${this.inTopArray && this.assembler === null ? "an array" : "a value"}`,
        this.line,
      );
    }
    return this.take();
  }

  private throwPending(): void {
    if (this.pending) {
      throw this.pending;
    }
  }

  private take(): ParsedValue[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private feed(segment: string | typeof NONE): void {
    let tokens: readonly Token[];
    try {
      tokens = tokensOf(this.tokenize(segment));
    } catch (err) {
      throw new JsonSyntaxError((err as Error).message, this.line);
    }
    for (const token of tokens) {
      this.consume(token);
    }
  }

  private consume(token: Token): void {
    if (this.assembler !== null) {
      this.assembler.consume(token);
      if (this.assembler.done) {
        this.out.push({ value: this.assembler.current, line: this.startLine });
        this.assembler = null;
      }
      return;
    }
    if (!this.inTopArray && token.name === "startArray") {
      this.inTopArray = true;
      return;
    }
    if (this.inTopArray && token.name === "endArray") {
      this.inTopArray = false;
      return;
    }
    const assembler = new Assembler();
    this.startLine = this.line;
    assembler.consume(token);
    if (assembler.done) {
      this.out.push({ value: assembler.current, line: this.startLine });
    } else {
      this.assembler = assembler;
    }
  }
}
