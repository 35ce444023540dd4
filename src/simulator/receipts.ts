/**
 * Receipts of a generated call as Alibaba sends them (docs/alibaba.md §1.2–1.4): snake_case fields,
 * `yyyy-MM-dd HH:mm:ss` Beijing times, `""` for absent times, numbers sometimes as JSON numbers,
 * Chinese texts, and occasionally fields nobody documented. Plus the QueryCallDetailByCallId
 * record (§4.2) and helpers to duplicate / reorder deliveries.
 */
import type { SimCall } from "./calls.js";
import { formatBeijing } from "./clock.js";
import { shuffled, type Rng } from "./random.js";

export type ReceiptType = "VoiceReport" | "VoiceCallReport" | "VoiceRecordReport";

export interface Receipt {
  messageType: ReceiptType;
  body: Record<string, unknown>;
}

const time = (ms: number | undefined): string => (ms === undefined ? "" : formatBeijing(ms));

function num(call: SimCall, n: number): string | number {
  return call.jsonNumbers ? n : String(n);
}

function extras(call: SimCall): Record<string, unknown> {
  return call.unknownFields
    ? { sim_region: "cn-hangzhou", sim_trace: { hop: 1, node: "vms-01" } }
    : {};
}

/** The VoiceReport (call record); inbound calls have none. */
export function voiceReport(call: SimCall): Receipt | undefined {
  if (call.kind === "inbound") {
    return undefined;
  }
  const answered = call.startTime !== undefined;
  const body: Record<string, unknown> = {
    status_code: call.statusCode,
    smart_status_code: call.smartStatusCode,
    status_msg: call.statusMsg,
    hangup_direction: call.hangupDirection,
    callee: call.callee,
    caller: call.caller,
    ring_time: time(call.ringTime),
    duration: String(call.durationSeconds),
    voice_type: "voice",
    originate_time: time(call.originateTime),
    start_time: time(call.startTime),
    end_time: answered ? time(call.endTime) : "",
    b_originate_time: time(call.originateTime),
    b_ring_time: time(call.ringTime),
    b_start_time: time(call.startTime),
    b_end_time: answered ? time(call.endTime) : "",
    b_duration: num(call, call.durationSeconds),
    call_id: call.callId,
    toll_type: call.tollType,
    ...extras(call),
  };
  if (call.outId !== undefined) {
    body.out_id = call.outId;
  }
  if (call.kind === "ivr") {
    body.dtmf = call.dtmf.map((d) => d.digit).join("");
  }
  if (call.kind === "robot") {
    body.dialog_id = call.dialogId;
    if (!answered && call.earlyMediaCode !== undefined) {
      body.early_media_code = call.earlyMediaCode;
    }
  }
  return { messageType: "VoiceReport", body };
}

/** VoiceCallReport events in the order they happen: 200101 → 200201 → 200102 → 300000… → 200100. */
export function voiceCallReports(call: SimCall): Receipt[] {
  const inbound = call.kind === "inbound";
  const events: Array<{ code: string; at: number; dtmf?: string }> = [];
  if (!inbound) {
    events.push({ code: "200101", at: call.originateTime });
  }
  if (call.ringTime !== undefined) {
    events.push({ code: "200201", at: call.ringTime });
  }
  if (call.startTime !== undefined) {
    events.push({ code: "200102", at: call.startTime });
  }
  for (const d of call.dtmf) {
    events.push({ code: "300000", at: d.at, dtmf: d.digit });
  }
  events.push({ code: "200100", at: call.endTime });
  return events.map((e) => {
    const body: Record<string, unknown> = {
      status_code: e.code,
      smart_status_code: call.smartStatusCode,
      status_time: formatBeijing(e.at),
    };
    if (e.dtmf !== undefined) {
      body.dtmf = e.dtmf;
    }
    if (inbound) {
      body.extend = call.extend;
      body.biz_id = call.callId;
    } else {
      if (call.outId !== undefined) {
        body.out_id = call.outId;
      }
      body.call_id = call.callId;
    }
    return { messageType: "VoiceCallReport", body };
  });
}

/** VoiceRecordReport, for calls that were recorded (answered robot calls). */
export function voiceRecordReport(call: SimCall): Receipt | undefined {
  if (call.recordFile === undefined) {
    return undefined;
  }
  return {
    messageType: "VoiceRecordReport",
    body: {
      duration: call.jsonNumbers ? call.durationSeconds : String(call.durationSeconds),
      start_time: time(call.startTime),
      status_code: call.statusCode,
      smart_status_code: call.smartStatusCode,
      end_time: time(call.endTime),
      record_file: call.recordFile,
      ...(call.outId === undefined ? {} : { out_id: call.outId }),
      record_begin_time: time(call.recordBeginTime),
      call_id: call.callId,
    },
  };
}

/** Every receipt of a call, in the order the platform emits them. */
export function receiptsForCall(call: SimCall): Receipt[] {
  const out = voiceCallReports(call);
  const report = voiceReport(call);
  const record = voiceRecordReport(call);
  if (report) {
    out.push(report);
  }
  if (record) {
    out.push(record);
  }
  return out;
}

/** The decoded `Data` object QueryCallDetailByCallId answers for a call (docs/alibaba.md §4.2). */
export interface CallDetail {
  callId: string;
  caller: string;
  callee: string;
  callerShowNumber: string;
  calleeShowNumber: string;
  startDate: string;
  endDate: string;
  duration: number;
  state: string;
  stateDesc: string;
  gmtCreate: string;
  aRingTime: string;
  aEndTime: string;
  bRingTime: string;
  bStartTime: string;
  bEndTime: string;
  hangupDirection: number;
}

export function detailForCall(call: SimCall): CallDetail {
  const answered = call.startTime !== undefined;
  let duration = call.durationSeconds;
  let endTime = call.endTime;
  let state = call.statusCode;
  let stateDesc = call.statusMsg;
  if (call.discrepancy === "duration" && answered) {
    duration += 1;
    endTime += 1000;
  } else if (call.discrepancy === "state") {
    [state, stateDesc] =
      state === "200000" ? ["200001", "用户提前挂机未完整收听"] : ["200000", "用户听完语音"];
  }
  return {
    callId: call.callId,
    caller: call.caller,
    callee: call.callee,
    callerShowNumber: call.callerShowNumber,
    calleeShowNumber: call.calleeShowNumber,
    startDate: time(call.startTime),
    endDate: answered ? time(endTime) : "",
    duration,
    state,
    stateDesc,
    gmtCreate: formatBeijing(call.originateTime - 1000),
    aRingTime: "",
    aEndTime: "",
    bRingTime: time(call.ringTime),
    bStartTime: time(call.startTime),
    bEndTime: answered ? time(endTime) : "",
    hangupDirection: call.hangupDirection === "机器" ? 1 : 0,
  };
}

/** Deliveries with roughly `rate` of the items repeated (at-least-once delivery). */
export function withDuplicates<T>(items: readonly T[], rng: Rng, rate = 0.2): T[] {
  const out: T[] = [];
  for (const item of items) {
    out.push(item);
    if (rng.chance(rate)) {
      out.push(item);
    }
  }
  return out;
}

/** The same deliveries in a random order (no ordering guarantee in either mode). */
export function reordered<T>(items: readonly T[], rng: Rng): T[] {
  return shuffled(items, rng);
}

/** The MNS MessageBody of one receipt: Base64 of its UTF-8 JSON. */
export function toMnsMessageBody(receipt: Receipt | Record<string, unknown>): string {
  const body = "messageType" in receipt && "body" in receipt ? receipt.body : receipt;
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64");
}

export function groupByType(
  receipts: readonly Receipt[],
): Map<ReceiptType, Array<Record<string, unknown>>> {
  const out = new Map<ReceiptType, Array<Record<string, unknown>>>();
  for (const r of receipts) {
    const list = out.get(r.messageType) ?? [];
    list.push(r.body);
    out.set(r.messageType, list);
  }
  return out;
}
