/**
 * parseReceivedMessages (src/sources/mns/receivedXml.ts) against the SDK's own reading of the
 * same answer (xml2js, then the SDK's extract, as its request() does): equal whenever it reads a
 * body, and it reads every answer the simulator renders; anything else is left to the SDK.
 */
import { createRequire } from "node:module";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { messageNodes } from "../../../src/simulator/mnsXml.js";
import { xmlDocument } from "../../../src/simulator/xml.js";
import { parseReceivedMessages } from "../../../src/sources/mns/receivedXml.js";

const require = createRequire(import.meta.url);
const sdkRequire = createRequire(require.resolve("@alicloud/mns"));
const sdkXml = sdkRequire("./lib/helper.js") as {
  parseXML(xml: string): Promise<Record<string, Record<string, unknown>>>;
  extract(value: unknown): unknown;
};

/** What the SDK's batchReceiveMessage returns as `body` for this answer. */
async function sdkMessages(xml: string): Promise<unknown> {
  const parsed = await sdkXml.parseXML(xml);
  const root = parsed.Messages ?? {};
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(root)) {
    if (key !== "$") {
      body[key] = sdkXml.extract(value);
    }
  }
  return body.Message;
}

const view = (i: number, body: string) => ({
  messageId: `5F2D6C2A${i}B3E6AF`,
  body,
  bodyMd5: "C5DD56A39F5F7BB8B3337C6D11B6D8C7",
  enqueueTime: 1_750_000_000_000 + i,
  firstDequeueTime: 1_750_000_000_100,
  nextVisibleTime: 1_750_000_060_000,
  dequeueCount: 1 + i,
  priority: 8,
  receiptHandle: `1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA==${i}`,
});

describe("parseReceivedMessages", () => {
  it("reads the simulator's answers as the SDK does", async () => {
    const body = Buffer.from('{"call_id":"1^2","status_msg":"用户接听 & <ok>"}').toString("base64");
    for (const bodies of [[body], Array.from({ length: 16 }, () => body), ['{"a":"<&>"}', " x "]]) {
      const xml = xmlDocument(
        "Messages",
        bodies.map((b, i) => ["Message", messageNodes(view(i, b))]),
      );
      const ours = parseReceivedMessages(xml);
      expect(ours).toBeDefined();
      expect(ours).toEqual(await sdkMessages(xml));
      expect(ours).toHaveLength(bodies.length);
    }
  });

  it("reads entities and whitespace between elements as the SDK does (property)", async () => {
    const textChar = fc.constantFrom(
      "a",
      "Z",
      "0",
      " ",
      "\t",
      "\n",
      "&",
      "<",
      ">",
      '"',
      "'",
      "é",
      "用",
      "😀",
    );
    const value = fc.array(textChar, { maxLength: 12 }).map((cs) => cs.join(""));
    const space = fc.constantFrom("", " ", "\n", "\n  ", "\t");
    const escaping = fc.constantFrom("named", "decimal", "hex");
    const escape = (text: string, how: string) =>
      text.replace(/[&<>"']/g, (c) =>
        how === "named"
          ? ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" }[c] as string)
          : how === "decimal"
            ? `&#${c.charCodeAt(0)};`
            : `&#x${c.charCodeAt(0).toString(16)};`,
      );
    const message = fc.record({
      id: value,
      body: value,
      count: value,
      how: escaping,
      gaps: fc.array(space, { minLength: 4, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 4 }),
        space,
        async (ms, outer) => {
          const inner = ms
            .map(
              (m) =>
                `${outer}<Message>${m.gaps[0]}<MessageId>${escape(m.id, m.how)}</MessageId>` +
                `${m.gaps[1]}<MessageBody>${escape(m.body, m.how)}</MessageBody>${m.gaps[2]}` +
                `<DequeueCount>${escape(m.count, m.how)}</DequeueCount>${m.gaps[3]}</Message>`,
            )
            .join("");
          const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Messages xmlns="http://mns.aliyuncs.com/doc/v1/">${inner}${outer}</Messages>`;
          const ours = parseReceivedMessages(xml);
          expect(ours).toBeDefined();
          expect(ours).toEqual(await sdkMessages(xml));
        },
      ),
      { seed: 23, numRuns: 300 },
    );
  });

  it("leaves every other body to the SDK", () => {
    const ok = (inner: string) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<Messages xmlns="http://mns.aliyuncs.com/doc/v1/">${inner}</Messages>`;
    expect(parseReceivedMessages(ok("<Message><MessageId>1</MessageId></Message>"))).toEqual([
      { MessageId: "1" },
    ]);
    for (const xml of [
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error xmlns="http://mns.aliyuncs.com/doc/v1/"><Code>MessageNotExist</Code></Error>`,
      ok(""),
      ok("<Message></Message><Message><MessageId>1</MessageId><MessageId>2</MessageId></Message>"),
      ok("<Message><MessageId><![CDATA[1]]></MessageId></Message>"),
      ok('<Message><MessageId a="1">1</MessageId></Message>'),
      ok("<Message><!-- c --><MessageId>1</MessageId></Message>"),
      ok("<Message><MessageId>1\r\n2</MessageId></Message>"),
      ok("<Message><MessageId>a & b</MessageId></Message>"),
      ok("<Message><MessageId>&nbsp;</MessageId></Message>"),
      ok("<Message><MessageId>&#0;</MessageId></Message>"),
      ok("<Message><MessageId>&#xD800;</MessageId></Message>"),
      ok("<Message><MessageId/></Message>"),
      ok("<Message>text<MessageId>1</MessageId></Message>"),
      ok("<Message><MessageId>1</MessageId></Message>trailing"),
      ok("<Message><Body><Inner>1</Inner></Body></Message>"),
      `${ok("<Message><MessageId>1</MessageId></Message>")}<more/>`,
    ]) {
      expect(parseReceivedMessages(xml), xml).toBeUndefined();
    }
  });
});
