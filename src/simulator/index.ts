/** The built-in Alibaba Cloud simulator (README "Commands", `simulate`). */
export { startSimulator, type Simulator, type SimulatorOptions } from "./server.js";
export type { SimulatorControl, QueueOptions, SimulatorSettings } from "./control.js";
export type { SimCounters } from "./counters.js";
export type { Fault, FaultTarget } from "./faults.js";
export type { AccountCredentials } from "./credentials.js";
export { SimClock, formatBeijing, parseBeijing, beijingDay, type Clock } from "./clock.js";
export {
  CALL_KINDS,
  PRODUCTS,
  createCallGenerator,
  type CallGenerator,
  type CallGeneratorOptions,
  type CallKind,
  type SimCall,
} from "./calls.js";
export {
  detailForCall,
  groupByType,
  receiptsForCall,
  reordered,
  toMnsMessageBody,
  voiceCallReports,
  voiceRecordReport,
  voiceReport,
  withDuplicates,
  type CallDetail,
  type Receipt,
  type ReceiptType,
} from "./receipts.js";
export { createRng, shuffled, type Rng } from "./random.js";
export {
  DEFAULT_PUSH_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  createPushClient,
  type PushAttempt,
  type PushClient,
  type PushClientOptions,
  type PushOutcome,
} from "./pushClient.js";
export { THROTTLING_CODE } from "./callDetailApi.js";
export { generateAccountCredentials } from "./ids.js";
export {
  generateDialogue,
  type DialogueContentType,
  type DialogueOptions,
  type DialogueTurn,
} from "./dialogue.js";
export {
  playSmartCall,
  smartCallParams,
  type PlaySmartCallOptions,
  type SmartCallEncoding,
  type SmartCallExchange,
  type SmartCallPeer,
  type SmartCallPlay,
} from "./smartCall.js";
