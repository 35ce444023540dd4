/**
 * Status codes as data (docs/alibaba.md §6). Meanings are the Chinese texts of the docs, kept
 * verbatim because operators compare them with the console. Reports read the same tables through
 * SQL views, so keep them in step with the migrations when codes are added.
 */

type CodeTable = Readonly<Record<string, string>>;

/** §6.1 Carrier result codes: `status_code` of VoiceReport/VoiceRecordReport, `state` of details. */
export const CARRIER_STATUS_CODES: CodeTable = Object.freeze({
  "200000": "用户听完语音",
  "200001": "用户提前挂机未完整收听",
  "200002": "用户占线",
  "200003": "用户收到呼叫但未接听",
  "200004": "用户号码不合法",
  "200005": "被叫用户无法接通",
  "200006": "语音播放失败铃声格式有误",
  "200007": "用户无法接通(不在服务区)",
  "200008": "获取按键超时",
  "200010": "关机",
  "200011": "停机",
  "200100": "呼叫结束(双呼)",
  "200101": "正在接通主叫",
  "200102": "成功接通主叫,正在接通被叫",
  "200103": "呼叫建立,正在通话",
  "200104": "主叫号码受限",
  "200105": "被叫号码受限",
  "200111": "被叫无法接通(拒绝)",
  "200112": "被叫占线",
  "200113": "被叫收到呼叫但未接听",
  "200116": "被叫号码不合法",
  "200117": "来电显示号码不合法",
  "200118": "供应商时间段限呼",
  "200119": "供应商超频限呼",
  "200120": "被叫无法接通(不在服务区)",
  "200121": "呼叫超并发",
  "300000": "DTMF按键消息",
  "9996": "呼叫未建立或者呼叫已结束(apus)",
  "999999": "系统错误",
  "500": "运营商错误",
  "400": "网元繁忙",
  "482": "被叫号码不可用",
  "476": "号码强制回收",
});

/** §6.2 In-call states of a single call, as sent in VoiceCallReport `status_code`. */
export const CALL_EVENT_CODES: CodeTable = Object.freeze({
  "200101": "开始呼叫",
  "200201": "被叫响铃",
  "200102": "被叫接听",
  "200100": "呼叫结束",
  "300000": "DTMF按键消息",
});

/**
 * §6.2 DoubleCall in-call states (2019 doc). The doc reuses 200102 for two states; 200102 keeps
 * the single-call meaning in CALL_EVENT_CODES, so only the codes that differ are listed here.
 */
export const DOUBLE_CALL_EVENT_CODES: CodeTable = Object.freeze({
  "200101": "开始呼叫主叫",
  "200102": "开始呼叫被叫",
  "200201": "主叫响铃",
  "200202": "被叫响铃",
  "200103": "被叫接听",
  "200100": "主叫挂机/被叫挂机",
});

/** §6.2 Early-media (号码状态识别) results, `early_media_code`. */
export const EARLY_MEDIA_CODES: CodeTable = Object.freeze({
  "200002": "用户占线",
  "200005": "用户无法接通(拒绝)",
  "200003": "无应答",
  "200010": "关机",
  "200011": "停机",
  "200007": "不在服务区",
  "200004": "空号",
  "200012": "呼损",
  "200130": "其他(无法识别)",
});

/** §6.3 Smart status codes, `smart_status_code`. */
export const SMART_STATUS_CODES: CodeTable = Object.freeze({
  ANSWERED: "用户接通",
  CANCEL: "主叫取消",
  CALL_REJECTED: "拒接",
  CALL_FORWARDING: "呼转/接听助理",
  INCOMING_CALL_BARRED: "限制呼入",
  INVALID_NUMBER: "空号",
  NO_ANSWER: "无应答",
  NO_USER_RESPONDING: "不在服务区",
  NETWORK_BUSY: "网络忙",
  OPERATOR_BLOCK: "运营商拦截",
  POWERED_OFF: "关机",
  SUSPEND: "停机",
  USER_BUSY: "被叫忙",
  UNAVAILABLE: "暂时无法接通",
  OTHER: "其他",
  // AICCS spelling of OTHER. AICCS also has INTELLIGENT_ANSWER, whose meaning is not documented
  // in our sources: it is left out (meaning null) rather than guessed.
  OTHERS: "其他",
});

/** VoiceCallReport `status_code` meaning the call is over: time to schedule reconciliation. */
export const ENDED_EVENT_CODE = "200100";
/** VoiceCallReport `status_code` of a key press; only then does `dtmf` carry a value. */
export const DTMF_EVENT_CODE = "300000";

/**
 * CDR results that mean the callee picked up: 200000/200001 for single calls and 200100, which
 * as a CDR result only exists for DoubleCall ("呼叫结束(双呼)": both legs were bridged; failed
 * double calls end with 2001xx failure codes instead). Pass CDR codes only: as a VoiceCallReport
 * state, 200100 is the hang-up of any call.
 */
export const ANSWERED_STATUS_CODES: readonly string[] = Object.freeze([
  "200000",
  "200001",
  "200100",
]);

type Code = string | number | null | undefined;

function lookup(table: CodeTable, code: Code): string | null {
  if (code === null || code === undefined) {
    return null;
  }
  const key = String(code).trim();
  return Object.prototype.hasOwnProperty.call(table, key) ? (table[key] ?? null) : null;
}

/** Meaning of a carrier result code (§6.1), else of an in-call state (§6.2); null if unknown. */
export function statusMeaning(code: Code): string | null {
  return lookup(CARRIER_STATUS_CODES, code) ?? lookup(CALL_EVENT_CODES, code);
}

/** Meaning of a VoiceCallReport state (§6.2); `doubleCall` picks the DoubleCall wording. */
export function callEventMeaning(
  code: Code,
  options: { doubleCall?: boolean } = {},
): string | null {
  const double = options.doubleCall === true ? lookup(DOUBLE_CALL_EVENT_CODES, code) : null;
  return double ?? lookup(CALL_EVENT_CODES, code);
}

export function earlyMediaMeaning(code: Code): string | null {
  return lookup(EARLY_MEDIA_CODES, code);
}

export function smartStatusMeaning(code: Code): string | null {
  return lookup(SMART_STATUS_CODES, code);
}

/** Whether a CDR result code means the call was answered (see ANSWERED_STATUS_CODES). */
export function isAnswered(statusCode: Code): boolean {
  return statusCode !== null && statusCode !== undefined
    ? ANSWERED_STATUS_CODES.includes(String(statusCode).trim())
    : false;
}
