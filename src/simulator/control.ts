/**
 * The in-process control surface tests (and `demo`) drive the simulator with: queues, calls,
 * receipts, faults, settings, counters, simulated time.
 */
import { endingBy, type CallGenerator, type CallKind, type SimCall } from "./calls.js";
import type { CallStore, DetailSettings } from "./callDetailApi.js";
import type { SimClock } from "./clock.js";
import { resetCounters, type SimCounters } from "./counters.js";
import type { Fault, FaultBox, FaultTarget } from "./faults.js";
import type { MnsService } from "./mns.js";
import type { MessageView, QueueAttributes } from "./mnsQueue.js";
import { receiptsForCall, toMnsMessageBody, type Receipt } from "./receipts.js";
import type { RecordingFaults, RecordingService } from "./recordings.js";
import type { TokenSettings } from "./tokenApi.js";

export interface QueueOptions {
  /** Receipt type delivered to this queue; STS tokens for that type may read it. */
  messageType?: string;
  /** Seconds; fractions allowed here (not over REST) to keep tests fast. */
  visibilityTimeoutSeconds?: number;
  pollingWaitSeconds?: number;
  delaySeconds?: number;
  maximumMessageSize?: number;
  messageRetentionPeriod?: number;
}

export interface SimulatorSettings {
  detailLagMs: number;
  detailQps: number;
  tokenLifetimeSeconds: number;
}

export interface SimulatorControl {
  createQueue(name: string, options?: QueueOptions): void;
  /** The queue registered for a receipt type (first one created), if any. */
  queueFor(messageType: string): string | undefined;
  queueNames(): string[];
  queueStats(name: string): { active: number; inactive: number; delayed: number };
  /** Every message stored in a queue, visible or not. */
  messages(name: string): MessageView[];
  /** Put one raw MessageBody into a queue; returns its MessageId. */
  enqueue(
    queueName: string,
    body: string,
    options?: { delaySeconds?: number; priority?: number },
  ): string;
  /** Each receipt as one MNS message (Base64 of its JSON) into the queue of its type. */
  enqueueReceipts(receipts: readonly Receipt[], options?: { queueName?: string }): number;
  /** Make the call-detail API know these calls. */
  loadCalls(calls: readonly SimCall[]): void;
  /** Generate calls with the simulator's seeded generator and load them. */
  generateCalls(count: number, kinds?: readonly CallKind[]): SimCall[];
  /**
   * Generate and load calls that ended in the last second before `endBy` (default: the
   * simulator's now), spread evenly over it: steady traffic that never ends in the future.
   */
  generateEndedCalls(count: number, endBy?: number, kinds?: readonly CallKind[]): SimCall[];
  /** Load these calls and enqueue all their receipts to MNS; returns the receipts. */
  deliverCallsToMns(calls: readonly SimCall[]): Receipt[];
  /** A signed recording URL for a call, valid until `expiresAtMs` (simulated time). */
  recordingUrl(callId: string, expiresAtMs: number): string;
  /** Slow, failing or cut recording downloads (replaces the previous setting). */
  setRecordingFaults(faults: RecordingFaults): void;
  /** PCM bytes of every WAV served from now on (16 000 a second of audio). */
  setRecordingBytes(dataBytes: number): void;
  injectFault(target: FaultTarget, fault: Fault, count?: number): void;
  /** Fail this share of the requests to `target` (0 stops it); queued faults come first. */
  setFailureRate(target: FaultTarget, fault: Fault, rate: number): void;
  setLatency(target: FaultTarget, ms: number): void;
  clearFaults(): void;
  setDetailLag(ms: number): void;
  setDetailQps(qps: number): void;
  /** Calls of these kinds never have a detail (empty Data for every ProdId); [] restores. */
  setKindsWithoutDetail(kinds: readonly CallKind[]): void;
  setTokenLifetime(seconds: number): void;
  settings(): SimulatorSettings;
  /** A snapshot of the counters. */
  counters(): SimCounters;
  resetCounters(): void;
  /** Move simulated time forward: visibility timeouts, token expiry and detail lag pass at once. */
  advanceClock(ms: number): void;
  now(): number;
}

export interface ControlDeps {
  mns: MnsService;
  calls: CallStore;
  generator: CallGenerator;
  clock: SimClock;
  counters: SimCounters;
  faults: FaultBox;
  detail: DetailSettings;
  token: TokenSettings;
  recordings: RecordingService;
}

export function createControl(d: ControlDeps): SimulatorControl {
  const queue = (name: string) => {
    const q = d.mns.queues.get(name);
    if (!q) {
      throw new Error(`simulator: no queue named ${name}`);
    }
    return q;
  };
  const control: SimulatorControl = {
    createQueue(name, o = {}) {
      const attributes: Partial<QueueAttributes> = {};
      if (o.visibilityTimeoutSeconds !== undefined) {
        attributes.visibilityTimeout = o.visibilityTimeoutSeconds;
      }
      if (o.pollingWaitSeconds !== undefined) {
        attributes.pollingWaitSeconds = o.pollingWaitSeconds;
      }
      if (o.delaySeconds !== undefined) {
        attributes.delaySeconds = o.delaySeconds;
      }
      if (o.maximumMessageSize !== undefined) {
        attributes.maximumMessageSize = o.maximumMessageSize;
      }
      if (o.messageRetentionPeriod !== undefined) {
        attributes.messageRetentionPeriod = o.messageRetentionPeriod;
      }
      d.mns.createQueue(name, attributes, o.messageType);
    },
    queueFor: (messageType) =>
      [...d.mns.queues.values()].find((q) => q.messageType === messageType)?.name,
    queueNames: () => [...d.mns.queues.keys()],
    queueStats: (name) => queue(name).stats(),
    messages: (name) => queue(name).snapshot(),
    enqueue: (name, body, options = {}) => queue(name).send(body, options).messageId,
    enqueueReceipts(receipts, options = {}) {
      for (const r of receipts) {
        const name = options.queueName ?? control.queueFor(r.messageType);
        if (name === undefined) {
          throw new Error(
            `simulator: no queue for ${r.messageType}; create one with messageType set`,
          );
        }
        queue(name).send(toMnsMessageBody(r));
      }
      return receipts.length;
    },
    loadCalls(calls) {
      for (const call of calls) {
        d.calls.add(call);
      }
    },
    generateCalls(count, kinds) {
      // Recorded calls get a URL of the simulated OSS, signed for 7 days after the call ended.
      const calls = d.generator
        .generate(count, kinds)
        .map((c) =>
          c.recordFile === undefined
            ? c
            : { ...c, recordFile: control.recordingUrl(c.callId, c.endTime + 7 * 86_400_000) },
        );
      control.loadCalls(calls);
      return calls;
    },
    generateEndedCalls(count, endBy = d.clock.now(), kinds) {
      const calls = d.generator
        .generate(count, kinds)
        .map((call, i) => endingBy(call, endBy - Math.floor(((i + 0.5) * 1000) / count)));
      control.loadCalls(calls);
      return calls;
    },
    deliverCallsToMns(calls) {
      control.loadCalls(calls);
      const receipts = calls.flatMap(receiptsForCall);
      control.enqueueReceipts(receipts);
      return receipts;
    },
    recordingUrl: (callId, expiresAtMs) =>
      d.recordings.sign(`${callId.replace(/\^/g, "_")}.wav`, expiresAtMs),
    setRecordingFaults: (faults) => d.recordings.setFaults(faults),
    setRecordingBytes(dataBytes) {
      d.recordings.settings.dataBytes = Math.max(0, Math.floor(dataBytes));
    },
    injectFault: (target, fault, count = 1) => d.faults.inject(target, fault, count),
    setFailureRate: (target, fault, rate) => d.faults.setFailureRate(target, fault, rate),
    setLatency: (target, ms) => d.faults.setLatency(target, ms),
    clearFaults: () => d.faults.clear(),
    setDetailLag(ms) {
      d.detail.lagMs = Math.max(0, ms);
    },
    setKindsWithoutDetail(kinds) {
      d.detail.withoutDetail = new Set(kinds);
    },
    setDetailQps(qps) {
      d.detail.qps = Math.max(1, qps);
    },
    setTokenLifetime(seconds) {
      d.token.lifetimeSeconds = Math.max(0, seconds);
    },
    settings: () => ({
      detailLagMs: d.detail.lagMs,
      detailQps: d.detail.qps,
      tokenLifetimeSeconds: d.token.lifetimeSeconds,
    }),
    counters: () => structuredClone(d.counters),
    resetCounters: () => resetCounters(d.counters),
    advanceClock: (ms) => d.clock.advance(ms),
    now: () => d.clock.now(),
  };
  return control;
}
