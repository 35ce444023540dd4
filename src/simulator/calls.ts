/**
 * Deterministic call generator (seeded): realistic calls of every Voice Service product, with
 * the facts their receipts (receipts.ts) and their QueryCallDetailByCallId record are rendered
 * from, so all three always agree unless a call is flagged with a deliberate discrepancy.
 */
import { createRng, type Rng } from "./random.js";

/**
 * ProdIds per docs/alibaba.md §4.1; inbound calls have no documented ProdId and no detail record.
 */
export const PRODUCTS = {
  voice: { prodId: "11000000300006", api: "SingleCallByVoice" },
  verification: { prodId: "11010000138001", api: "SingleCallByTts" },
  ivr: { prodId: "11000000300005", api: "IvrCall" },
  robot: { prodId: "11030000180001", api: "SmartCall (ALICOM_SMART_SAAS robot)" },
  inbound: { prodId: undefined, api: "inbound" },
} as const;

export type CallKind = keyof typeof PRODUCTS;
export const CALL_KINDS = Object.keys(PRODUCTS) as CallKind[];

export interface Outcome {
  statusCode: string;
  statusMsg: string;
  smartStatusCode: string;
  earlyMediaCode?: string;
}

const ANSWERED_OUTCOMES: Outcome[] = [
  { statusCode: "200000", statusMsg: "用户听完语音", smartStatusCode: "ANSWERED" },
  { statusCode: "200001", statusMsg: "用户提前挂机未完整收听", smartStatusCode: "ANSWERED" },
];
const IVR_TIMEOUT: Outcome = {
  statusCode: "200008",
  statusMsg: "获取按键超时",
  smartStatusCode: "ANSWERED",
};
const UNANSWERED_OUTCOMES: Array<Outcome & { rings: boolean }> = [
  {
    statusCode: "200002",
    statusMsg: "用户占线",
    smartStatusCode: "USER_BUSY",
    earlyMediaCode: "200002",
    rings: false,
  },
  {
    statusCode: "200003",
    statusMsg: "用户收到呼叫但未接听",
    smartStatusCode: "NO_ANSWER",
    earlyMediaCode: "200003",
    rings: true,
  },
  {
    statusCode: "200005",
    statusMsg: "被叫用户无法接通",
    smartStatusCode: "CALL_REJECTED",
    earlyMediaCode: "200005",
    rings: true,
  },
  {
    statusCode: "200007",
    statusMsg: "用户无法接通(不在服务区)",
    smartStatusCode: "NO_USER_RESPONDING",
    earlyMediaCode: "200007",
    rings: false,
  },
  {
    statusCode: "200010",
    statusMsg: "关机",
    smartStatusCode: "POWERED_OFF",
    earlyMediaCode: "200010",
    rings: false,
  },
  {
    statusCode: "200011",
    statusMsg: "停机",
    smartStatusCode: "SUSPEND",
    earlyMediaCode: "200011",
    rings: false,
  },
];

export interface SimCall extends Outcome {
  kind: CallKind;
  /** `call_id` (inbound: `biz_id`), `<12 digits>^<12 digits>`. */
  callId: string;
  prodId: string | undefined;
  outId: string | undefined;
  caller: string;
  callee: string;
  callerShowNumber: string;
  calleeShowNumber: string;
  /** Epoch ms, whole seconds. */
  originateTime: number;
  ringTime: number | undefined;
  /** Answer time; undefined when not connected. */
  startTime: number | undefined;
  /** Hang-up time (also for calls that never connected). */
  endTime: number;
  durationSeconds: number;
  answered: boolean;
  hangupDirection: "用户" | "机器";
  dtmf: Array<{ digit: string; at: number }>;
  recordFile: string | undefined;
  recordBeginTime: number | undefined;
  dialogId: string | undefined;
  taskId: string | undefined;
  extend: string | undefined;
  tollType: string;
  /** Render duration-like fields as JSON numbers instead of strings (real payloads mix both). */
  jsonNumbers: boolean;
  /** Add fields the docs do not list (consumers must keep them). */
  unknownFields: boolean;
  /** Make the detail record disagree with the receipts on purpose (tests of `discrepancies`). */
  discrepancy: "duration" | "state" | undefined;
}

export interface CallGeneratorOptions {
  seed?: number;
  /** Originate time of the first call (epoch ms); default one hour before now, whole minute. */
  startTime?: number;
  /** Mean gap between originate times; default 3 s. */
  meanGapMs?: number;
  /** Share of outbound calls answered; default 0.7. */
  answerRate?: number;
  /** Share of calls whose detail record deliberately disagrees; default 0. */
  discrepancyRate?: number;
}

export interface CallGenerator {
  next(kind?: CallKind): SimCall;
  generate(count: number, kinds?: readonly CallKind[]): SimCall[];
}

const SECOND = 1000;

export function createCallGenerator(options: CallGeneratorOptions = {}): CallGenerator {
  const rng = createRng(options.seed ?? 1);
  const meanGap = options.meanGapMs ?? 3 * SECOND;
  const answerRate = options.answerRate ?? 0.7;
  const discrepancyRate = options.discrepancyRate ?? 0;
  let cursor = options.startTime ?? Math.floor((Date.now() - 3600 * SECOND) / 60_000) * 60_000;
  const used = new Set<string>();
  let serial = 0;

  const callId = (): string => {
    for (;;) {
      const id = `${rng.int(1, 9)}${rng.digits(11)}^${rng.int(1, 9)}${rng.digits(11)}`;
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };

  const next = (kind: CallKind = rng.pick(CALL_KINDS)): SimCall => {
    serial++;
    const originateTime = Math.floor(cursor / SECOND) * SECOND;
    cursor += Math.max(SECOND, Math.round(meanGap * (0.5 + rng.next())));
    return buildCall(rng, kind, callId(), originateTime, serial, {
      answered: kind === "inbound" || rng.chance(answerRate),
      discrepancy: rng.chance(discrepancyRate)
        ? rng.pick(["duration", "state"] as const)
        : undefined,
    });
  };

  return {
    next,
    generate: (count, kinds = CALL_KINDS) =>
      Array.from({ length: count }, (_, i) => next(kinds[i % kinds.length])),
  };
}

/**
 * The same call moved in time so that it ends at or just before `endBy` (whole seconds, like
 * every generated time): what steady traffic needs, calls that have just ended, at the rate
 * they are generated, whatever the generator's own clock says.
 */
export function endingBy(call: SimCall, endBy: number): SimCall {
  const delta = Math.floor((endBy - call.endTime) / SECOND) * SECOND;
  const shift = (t: number | undefined) => (t === undefined ? undefined : t + delta);
  return {
    ...call,
    originateTime: call.originateTime + delta,
    ringTime: shift(call.ringTime),
    startTime: shift(call.startTime),
    endTime: call.endTime + delta,
    dtmf: call.dtmf.map((d) => ({ ...d, at: d.at + delta })),
    recordBeginTime: shift(call.recordBeginTime),
  };
}

function mobile(rng: Rng): string {
  return `1${rng.pick(["3", "5", "7", "8", "9"])}${rng.digits(9)}`;
}

function buildCall(
  rng: Rng,
  kind: CallKind,
  callId: string,
  originateTime: number,
  serial: number,
  flags: { answered: boolean; discrepancy: SimCall["discrepancy"] },
): SimCall {
  const showNumber = `0571${rng.digits(8)}`;
  const user = mobile(rng);
  const inbound = kind === "inbound";
  const unanswered = rng.pick(UNANSWERED_OUTCOMES);
  const rings = flags.answered || unanswered.rings;
  const ringTime = rings ? originateTime + rng.int(1, 6) * SECOND : undefined;
  const startTime =
    flags.answered && ringTime !== undefined ? ringTime + rng.int(2, 12) * SECOND : undefined;
  const talk = kind === "verification" ? rng.int(8, 30) : rng.int(5, 120);
  const endTime =
    startTime !== undefined
      ? startTime + talk * SECOND
      : (ringTime ?? originateTime) + (rings ? rng.int(20, 45) : rng.int(1, 4)) * SECOND;
  const dtmf: SimCall["dtmf"] = [];
  if (kind === "ivr" && startTime !== undefined) {
    const presses = rng.int(0, 3);
    for (let i = 0; i < presses; i++) {
      dtmf.push({
        digit: rng.pick(["1", "2", "3", "9", "0", "#"]),
        at: startTime + (i + 1) * Math.floor((talk * SECOND) / (presses + 1)),
      });
    }
  }
  let outcome: Outcome = flags.answered ? rng.pick(ANSWERED_OUTCOMES) : unanswered;
  if (kind === "ivr" && flags.answered && dtmf.length === 0) {
    outcome = IVR_TIMEOUT;
  }
  const taskId = kind === "robot" ? String(1_000_000 + (serial % 7)) : undefined;
  const outId =
    kind === "robot"
      ? `ALICOM_SMART_SAAS^${taskId}^${rng.digits(8)}`
      : kind === "inbound" || rng.chance(0.1)
        ? undefined
        : `${kind === "verification" ? "code" : kind === "ivr" ? "ivr" : "vn"}${rng.digits(9)}`;
  const recorded = kind === "robot" && startTime !== undefined;
  return {
    kind,
    callId,
    prodId: PRODUCTS[kind].prodId,
    outId,
    caller: inbound ? user : showNumber,
    callee: inbound ? `400${rng.digits(7)}` : user,
    callerShowNumber: inbound ? user : showNumber,
    calleeShowNumber: inbound ? `400${rng.digits(7)}` : user,
    originateTime,
    ringTime,
    startTime,
    endTime,
    durationSeconds: startTime === undefined ? 0 : Math.round((endTime - startTime) / SECOND),
    answered: startTime !== undefined,
    statusCode: outcome.statusCode,
    statusMsg: outcome.statusMsg,
    smartStatusCode: outcome.smartStatusCode,
    ...(outcome.earlyMediaCode === undefined ? {} : { earlyMediaCode: outcome.earlyMediaCode }),
    hangupDirection: kind === "robot" && rng.chance(0.4) ? "机器" : "用户",
    dtmf,
    recordFile: recorded
      ? `http://alicom-vms-record.oss-cn-hangzhou.aliyuncs.com/record/${callId.replace("^", "_")}.wav?Expires=${Math.floor(endTime / SECOND) + 7 * 86400}&OSSAccessKeyId=LTAIsimulated&Signature=${rng.digits(10)}`
      : undefined,
    recordBeginTime: recorded && startTime !== undefined ? startTime + SECOND : undefined,
    dialogId: kind === "robot" ? rng.digits(6) : undefined,
    taskId,
    extend: inbound ? rng.digits(4) : undefined,
    tollType: rng.pick(["LOCAL", "PROVINCE", "DOMESTIC", "UNKNOWN"]),
    jsonNumbers: rng.chance(0.3),
    unknownFields: rng.chance(0.2),
    discrepancy: kind === "inbound" ? undefined : flags.discrepancy,
  };
}
