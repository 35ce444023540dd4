/**
 * The call generator and receipt rendering: deterministic, realistic, internally consistent.
 */
import { describe, expect, it } from "vitest";

import {
  CALL_KINDS,
  createCallGenerator,
  createRng,
  detailForCall,
  formatBeijing,
  parseBeijing,
  receiptsForCall,
  reordered,
  toMnsMessageBody,
  voiceCallReports,
  voiceRecordReport,
  voiceReport,
  withDuplicates,
  type SimCall,
} from "../../../src/simulator/index.js";

const START = Date.UTC(2026, 0, 5, 2, 0, 0);
const many = (seed: number, n = 300): SimCall[] =>
  createCallGenerator({ seed, startTime: START }).generate(n);

describe("call generator", () => {
  it("generates the same calls from the same seed and different ones from another", () => {
    expect(many(7, 20)).toEqual(many(7, 20));
    expect(many(8, 20)).not.toEqual(many(7, 20));
  });

  it("gives every call a unique call_id of two 12-digit parts", () => {
    const calls = many(1, 500);
    for (const c of calls) {
      expect(c.callId).toMatch(/^\d{12}\^\d{12}$/);
    }
    expect(new Set(calls.map((c) => c.callId)).size).toBe(calls.length);
  });

  it("covers every product with its ProdId and orders each call's times", () => {
    const calls = many(2);
    expect(new Set(calls.map((c) => c.kind))).toEqual(new Set(CALL_KINDS));
    const prodIds = Object.fromEntries(calls.map((c) => [c.kind, c.prodId]));
    expect(prodIds).toEqual({
      voice: "11000000300006",
      verification: "11010000138001",
      ivr: "11000000300005",
      robot: "11030000180001",
      inbound: undefined,
    });
    for (const c of calls) {
      const times = [c.originateTime, c.ringTime, c.startTime, c.endTime].filter(
        (t) => t !== undefined,
      );
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(c.durationSeconds).toBe(
        c.startTime === undefined ? 0 : (c.endTime - c.startTime) / 1000,
      );
    }
  });

  it("gives robot calls ALICOM_SMART_SAAS out_ids, dialog ids and recordings when answered", () => {
    const robots = many(3).filter((c) => c.kind === "robot");
    expect(robots.length).toBeGreaterThan(10);
    for (const c of robots) {
      expect(c.outId).toMatch(/^ALICOM_SMART_SAAS\^\d+\^\d+$/);
      expect(c.recordFile !== undefined).toBe(c.answered);
    }
    expect(new Set(robots.map((c) => c.hangupDirection))).toEqual(new Set(["用户", "机器"]));
  });
});

describe("receipts", () => {
  it("emits VoiceCallReport events in call order, with DTMF for IVR calls", () => {
    const ivr = many(4).find((c) => c.kind === "ivr" && c.dtmf.length > 0)!;
    const events = voiceCallReports(ivr).map((r) => r.body);
    const codes = events.map((e) => e.status_code);
    expect(codes.slice(0, 3)).toEqual(["200101", "200201", "200102"]);
    expect(codes.at(-1)).toBe("200100");
    expect(codes.filter((c) => c === "300000")).toHaveLength(ivr.dtmf.length);
    expect(events.filter((e) => e.status_code === "300000").map((e) => e.dtmf)).toEqual(
      ivr.dtmf.map((d) => d.digit),
    );
    const times = events.map((e) => parseBeijing(e.status_time as string)!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(voiceReport(ivr)!.body.dtmf).toBe(ivr.dtmf.map((d) => d.digit).join(""));
  });

  it("keys inbound call events by biz_id and sends no VoiceReport for them", () => {
    const inbound = many(5).find((c) => c.kind === "inbound")!;
    const receipts = receiptsForCall(inbound);
    expect(receipts.every((r) => r.messageType === "VoiceCallReport")).toBe(true);
    for (const r of receipts) {
      expect(r.body.biz_id).toBe(inbound.callId);
      expect(r.body).not.toHaveProperty("call_id");
      expect(typeof r.body.extend).toBe("string");
    }
  });

  it("leaves times of unconnected calls as empty strings", () => {
    const missed = many(6).find((c) => c.kind === "voice" && !c.answered)!;
    const body = voiceReport(missed)!.body;
    expect(body).toMatchObject({ start_time: "", end_time: "", duration: "0", b_end_time: "" });
    expect(body.originate_time).toBe(formatBeijing(missed.originateTime));
  });

  it("mixes strings and JSON numbers, Chinese texts and undocumented fields across calls", () => {
    const reports = many(9)
      .map(voiceReport)
      .filter((r) => r !== undefined)
      .map((r) => r.body);
    expect(new Set(reports.map((b) => typeof b.b_duration))).toEqual(new Set(["string", "number"]));
    expect(reports.some((b) => "sim_trace" in b)).toBe(true);
    expect(reports.some((b) => b.status_msg === "用户占线")).toBe(true);
    expect(reports.some((b) => !("out_id" in b))).toBe(true);
    const records = many(9)
      .map(voiceRecordReport)
      .filter((r) => r !== undefined);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.body.record_file).toMatch(/^http:\/\/.*\.wav\?/);
      expect(r.body.record_begin_time).not.toBe("");
    }
  });

  it("renders a detail record consistent with the receipts unless a discrepancy is flagged", () => {
    for (const call of many(10).filter((c) => c.kind !== "inbound")) {
      const detail = detailForCall(call);
      const report = voiceReport(call)!.body;
      expect(detail.state).toBe(report.status_code);
      expect(detail.duration).toBe(Number(report.duration));
      expect(detail.startDate).toBe(report.start_time);
      expect(detail.endDate).toBe(report.end_time);
      expect(detail.callee).toBe(report.callee);
    }
    const flagged = createCallGenerator({ seed: 1, answerRate: 1, discrepancyRate: 1 }).generate(
      20,
      ["voice"],
    );
    expect(flagged.some((c) => detailForCall(c).state !== c.statusCode)).toBe(true);
    expect(flagged.some((c) => detailForCall(c).duration !== c.durationSeconds)).toBe(true);
  });

  it("encodes one receipt per MNS message as Base64 of UTF-8 JSON", () => {
    const receipt = voiceReport(many(11).find((c) => c.kind === "voice")!)!;
    const decoded: unknown = JSON.parse(
      Buffer.from(toMnsMessageBody(receipt), "base64").toString("utf8"),
    );
    expect(decoded).toEqual(receipt.body);
  });

  it("duplicates and reorders deliveries deterministically", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const dup = withDuplicates(items, createRng(1), 0.3);
    expect(dup.length).toBeGreaterThan(50);
    expect(new Set(dup)).toEqual(new Set(items));
    const shuffledOnce = reordered(items, createRng(2));
    expect(shuffledOnce).not.toEqual(items);
    expect([...shuffledOnce].sort((a, b) => a - b)).toEqual(items);
    expect(reordered(items, createRng(2))).toEqual(shuffledOnce);
  });
});
