/**
 * Report dimensions of a call: its product and its outcome by carrier meaning. The reports
 * compute both in SQL (migrations/0006_report_dimensions.sql: vr_call_product, vr_call_outcome)
 * so psql users get the same numbers; these are the same rules in TypeScript, for tests and
 * for code that has a call in hand. test/integration/reportDimensions.test.ts keeps the two in
 * step.
 */
export const DIRECTIONS = ["outbound", "inbound"] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const PRODUCTS = [
  "notification",
  "verification",
  "ivr",
  "smart",
  "robot",
  "inbound",
] as const;
export type Product = (typeof PRODUCTS)[number];

/** ProdIds of QueryCallDetailByCallId (docs/ "call detail" ProdId table) and their product. */
export const PROD_ID_PRODUCTS: Readonly<Record<string, Product>> = Object.freeze({
  "11000000300006": "notification",
  "11010000138001": "verification",
  "11000000300005": "ivr",
  "11030000180001": "smart",
});

export const ROBOT_OUT_ID_PREFIX = "ALICOM_SMART_SAAS^";

/** What we store about a call that tells its product. */
export interface ProductFacts {
  direction: Direction;
  outId: string | null;
  /** The ProdId QueryCallDetailByCallId answered for (calls.prod_id), when reconciled. */
  prodId: string | null;
  /**
   * Any SmartCall-only trace: dialogue turns (ASR callback), a recording with
   * record_begin_time, voice_type asr/smart_transfer, early_media_code, or a VoiceReport with
   * dialog_id / parallel_leg_hangup_cause.
   */
  smartTrace: boolean;
  /** Keys pressed (calls.dtmf). */
  dtmf: string | null;
}

/**
 * The product of a call, first rule that applies:
 * 1. inbound direction (a biz_id call) → inbound;
 * 2. out_id `ALICOM_SMART_SAAS^<task>^…` → robot (a robot task's call);
 * 3. the ProdId the call detail was found under → its product (authoritative when known);
 * 4. a SmartCall-only trace → smart;
 * 5. key presses → ivr;
 * 6. otherwise notification.
 * smart_status_code is no clue: newer receipts carry it for every product. A verification-code
 * call (SingleCallByTts) looks like a notification in its receipts, so it is told apart only
 * once reconciled (ProdId 11010000138001); before that it counts as notification.
 */
export function callProduct(f: ProductFacts): Product {
  if (f.direction === "inbound") {
    return "inbound";
  }
  if (f.outId !== null && f.outId.startsWith(ROBOT_OUT_ID_PREFIX)) {
    return "robot";
  }
  const byProdId = own(PROD_ID_PRODUCTS, f.prodId);
  if (byProdId !== undefined) {
    return byProdId;
  }
  if (f.smartTrace) {
    return "smart";
  }
  if (f.dtmf !== null && f.dtmf !== "") {
    return "ivr";
  }
  return "notification";
}

/** The outcomes in report order, each with its carrier meaning as operators say it. */
export const OUTCOME_MEANINGS = Object.freeze({
  answered: "接通",
  busy: "忙",
  no_answer: "无人接听",
  rejected: "拒接",
  vacant: "空号",
  suspended: "停机",
  powered_off: "关机",
  unreachable: "无法接通",
  restricted: "被叫受限",
  blocked: "平台限呼",
  failed: "呼叫失败",
  other: "其他",
});
export type Outcome = keyof typeof OUTCOME_MEANINGS;
export const OUTCOMES = Object.freeze(Object.keys(OUTCOME_MEANINGS) as Outcome[]);

/**
 * What an outcome says about the number itself, for `report numbers`: `dead` (空号, 停机:
 * take it off the list), `unreachable` (关机, 无法接通/不在服务区: try later, or drop after
 * repeats). Busy, no answer and rejection are the person's answer, not the number's state.
 */
export const NUMBER_STATES: Readonly<Partial<Record<Outcome, "dead" | "unreachable">>> =
  Object.freeze({
    vacant: "dead",
    suspended: "dead",
    powered_off: "unreachable",
    unreachable: "unreachable",
  });

/**
 * Outcome of each carrier result code that is not an answer (answered codes are `answered`).
 * In-progress states (200101–200103, 200201) and 300000 are `other`: as a final result they say
 * nothing about the callee. 200104 (caller restricted), 200117–200119 and 200121 are refusals of
 * the platform before dialling: `blocked`, not counted as seizures.
 */
export const CARRIER_OUTCOMES: Readonly<Record<string, Outcome>> = Object.freeze({
  "200002": "busy",
  "200112": "busy",
  "200003": "no_answer",
  "200113": "no_answer",
  "200111": "rejected",
  "200004": "vacant",
  "200116": "vacant",
  "482": "vacant",
  "476": "vacant",
  "200011": "suspended",
  "200010": "powered_off",
  "200005": "unreachable",
  "200007": "unreachable",
  "200120": "unreachable",
  "200105": "restricted",
  "200104": "blocked",
  "200117": "blocked",
  "200118": "blocked",
  "200119": "blocked",
  "200121": "blocked",
  "400": "failed",
  "500": "failed",
  "9996": "failed",
  "999999": "failed",
  "200006": "other",
  "200008": "other",
  "200100": "other",
  "200101": "other",
  "200102": "other",
  "200103": "other",
  "200201": "other",
  "300000": "other",
  "200000": "other",
  "200001": "other",
});

/** Outcome of each smart status code (smart_status_code). */
export const SMART_OUTCOMES: Readonly<Record<string, Outcome>> = Object.freeze({
  ANSWERED: "answered",
  CANCEL: "other",
  CALL_REJECTED: "rejected",
  CALL_FORWARDING: "other",
  INCOMING_CALL_BARRED: "restricted",
  INVALID_NUMBER: "vacant",
  NO_ANSWER: "no_answer",
  NO_USER_RESPONDING: "unreachable",
  NETWORK_BUSY: "failed",
  OPERATOR_BLOCK: "blocked",
  POWERED_OFF: "powered_off",
  SUSPEND: "suspended",
  USER_BUSY: "busy",
  UNAVAILABLE: "unreachable",
  OTHER: "other",
  OTHERS: "other",
});

function own<T>(table: Readonly<Record<string, T>>, key: string | null): T | undefined {
  return key !== null && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/**
 * Outcome of a call with a result: `answered` when answered; else the carrier code's outcome,
 * unless that is only the generic `unreachable`/`other` (or unknown) and the smart status code
 * says more (e.g. 200005 with SUSPEND is 停机). null when the call has no result yet.
 */
export function callOutcome(
  answered: boolean,
  resultCode: string | null,
  smartStatusCode: string | null,
): Outcome | null {
  if (answered) {
    return "answered";
  }
  if (resultCode === null) {
    return null;
  }
  const carrier = own(CARRIER_OUTCOMES, resultCode) ?? own(SMART_OUTCOMES, resultCode);
  const smart = own(SMART_OUTCOMES, smartStatusCode);
  if (
    (carrier === undefined || carrier === "unreachable" || carrier === "other") &&
    smart !== undefined &&
    smart !== "answered" &&
    smart !== "other"
  ) {
    return smart;
  }
  return carrier === undefined || carrier === "answered" ? "other" : carrier;
}
