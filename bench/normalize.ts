/**
 * bench/normalize.ts — CPU cost of normalizeReceipt per receipt, by message type (the same
 * receipts bench/push.ts and bench/persist.ts send), plus the cost of the zod schema check alone
 * as a reference point.
 *
 *   npx tsx bench/normalize.ts [--ms 1500]
 */
import { normalizeReceipt } from "../src/domain/receipt.js";
import {
  VoiceCallReportOutboundSchema,
  VoiceRecordReportSchema,
  VoiceReportSchema,
} from "../src/domain/schemas.js";
import { voiceCallReports, voiceRecordReport, voiceReport } from "./lib.js";

const ms = Number(process.argv[process.argv.indexOf("--ms") + 1] || 1500) || 1500;
const run = "123456789012";
const N = 5000;
const inputs: [string, Record<string, string>[], { safeParse(v: unknown): unknown }][] = [
  ["VoiceReport", Array.from({ length: N }, (_, n) => voiceReport(n, run)), VoiceReportSchema],
  [
    "VoiceCallReport",
    Array.from({ length: N }, (_, n) => voiceCallReports(n, run)[n % 3] as Record<string, string>),
    VoiceCallReportOutboundSchema,
  ],
  [
    "VoiceRecordReport",
    Array.from({ length: N }, (_, n) => voiceRecordReport(n, run)),
    VoiceRecordReportSchema,
  ],
];

function time(fn: (i: number) => unknown): number {
  for (let i = 0; i < N * 4; i++) {
    fn(i % N); // warm up
  }
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let i = 0; i < N; i++) {
      fn(i);
    }
    calls += N;
  }
  return ((performance.now() - started) * 1000) / calls;
}

for (const [type, list, schema] of inputs) {
  const full = time((i) => {
    const r = normalizeReceipt(type, list[i]);
    if (!r.ok) {
      throw new Error(r.reason);
    }
  });
  const zod = time((i) => schema.safeParse(list[i]));
  console.log(
    `${type.padEnd(18)} normalizeReceipt ${full.toFixed(2)} µs/receipt | zod safeParse alone ${zod.toFixed(2)} µs`,
  );
}
