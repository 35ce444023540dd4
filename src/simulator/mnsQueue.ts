/**
 * One MNS queue (docs/alibaba.md §11.5): visibility timeout with redelivery, one valid receipt
 * handle per message (the latest, until NextVisibleTime), DequeueCount / FirstDequeueTime,
 * delay, priority, retention, and long-poll waiters woken as soon as a message is visible.
 * Pure state: the REST layer (mns.ts) turns results into XML.
 *
 * Over 300 lines: one class whose state (messages, their current receipt handles, waiting polls)
 * every operation touches; splitting it would spread one invariant over several files.
 */
import { createHash } from "node:crypto";

import type { Clock } from "./clock.js";
import type { SimCounters } from "./counters.js";
import { randomAlnum, upperHex } from "./ids.js";

const DEFAULT_PRIORITY = 8;

export interface QueueAttributes {
  delaySeconds: number;
  maximumMessageSize: number;
  messageRetentionPeriod: number;
  /** Seconds; fractional values are allowed in-process (control API) to keep tests fast. */
  visibilityTimeout: number;
  pollingWaitSeconds: number;
  loggingEnabled: boolean;
}

export const DEFAULT_QUEUE_ATTRIBUTES: QueueAttributes = {
  delaySeconds: 0,
  maximumMessageSize: 65536,
  messageRetentionPeriod: 345600,
  visibilityTimeout: 30,
  pollingWaitSeconds: 0,
  loggingEnabled: false,
};

interface StoredMessage {
  seq: number;
  messageId: string;
  body: string;
  bodyMd5: string;
  enqueueTime: number;
  firstDequeueTime: number | undefined;
  nextVisibleTime: number;
  dequeueCount: number;
  priority: number;
  receiptHandle: string | undefined;
}

export interface MessageView {
  messageId: string;
  body: string;
  bodyMd5: string;
  enqueueTime: number;
  firstDequeueTime: number;
  nextVisibleTime: number;
  dequeueCount: number;
  priority: number;
  /** Absent for peeks. */
  receiptHandle: string | undefined;
}

export type HandleResult =
  | { ok: true; receiptHandle: string; nextVisibleTime: number }
  | { ok: false; code: "MessageNotExist" | "ReceiptHandleError" };

const HANDLE_PATTERN = /^\d+-[A-Za-z0-9]{16,}$/;

interface Waiter {
  max: number;
  resolve: (messages: MessageView[]) => void;
  timer: NodeJS.Timeout;
}

export function md5Upper(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex").toUpperCase();
}

export class MnsQueue {
  readonly createTime: number;
  lastModifyTime: number;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly handles = new Map<string, string>();
  private waiters: Waiter[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    readonly name: string,
    public attributes: QueueAttributes,
    private readonly clock: Clock,
    private readonly counters: SimCounters,
    /** The receipt type whose STS tokens may use this queue. */
    public messageType: string | undefined,
  ) {
    this.createTime = clock.now();
    this.lastModifyTime = this.createTime;
  }

  send(body: string, options: { delaySeconds?: number; priority?: number } = {}): MessageView {
    const now = this.clock.now();
    const delay = options.delaySeconds ?? this.attributes.delaySeconds;
    const stored: StoredMessage = {
      seq: this.seq++,
      messageId: upperHex(16),
      body,
      bodyMd5: md5Upper(body),
      enqueueTime: now,
      firstDequeueTime: undefined,
      nextVisibleTime: now + delay * 1000,
      dequeueCount: 0,
      priority: options.priority ?? DEFAULT_PRIORITY,
      receiptHandle: undefined,
    };
    this.messages.set(stored.messageId, stored);
    if (stored.priority !== DEFAULT_PRIORITY) {
      this.otherPriorities++;
    }
    this.counters.mns.sends++;
    this.notify();
    return this.view(stored, false);
  }

  /** Receive up to `max` visible messages now (possibly none). */
  receive(max: number): MessageView[] {
    const now = this.clock.now();
    const out: MessageView[] = [];
    for (const m of this.visible(now, max)) {
      if (m.dequeueCount > 0) {
        this.counters.mns.redeliveries++;
      }
      if (m.receiptHandle !== undefined) {
        this.handles.delete(m.receiptHandle);
      }
      m.dequeueCount++;
      m.firstDequeueTime ??= now;
      m.nextVisibleTime = now + this.attributes.visibilityTimeout * 1000;
      m.receiptHandle = this.newHandle(m);
      out.push(this.view(m, true));
    }
    this.counters.mns.messagesReceived += out.length;
    return out;
  }

  peek(max: number): MessageView[] {
    return this.visible(this.clock.now())
      .slice(0, max)
      .map((m) => this.view(m, false));
  }

  /**
   * Long poll: messages visible now, else wait up to `waitMs` for one. `onCancel` is given a
   * function that withdraws the wait (client went away) so no message is handed to nobody.
   */
  receiveWait(
    max: number,
    waitMs: number,
    onCancel?: (cancel: () => void) => void,
  ): Promise<MessageView[]> {
    const now = this.receive(max);
    if (now.length > 0 || waitMs <= 0) {
      return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max,
        resolve: (messages) => {
          clearTimeout(waiter.timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(messages);
        },
        timer: setTimeout(() => waiter.resolve([]), waitMs),
      };
      this.waiters.push(waiter);
      this.scheduleWake();
      onCancel?.(() => {
        if (this.waiters.includes(waiter)) {
          waiter.resolve([]);
        }
      });
    });
  }

  delete(handle: string): HandleResult {
    const found = this.byHandle(handle);
    if (!found.ok) {
      this.counters.mns.deleteFailures++;
      return found;
    }
    this.forget(found.message);
    this.handles.delete(handle);
    this.counters.mns.deletes++;
    return { ok: true, receiptHandle: handle, nextVisibleTime: found.message.nextVisibleTime };
  }

  changeVisibility(handle: string, seconds: number): HandleResult {
    const found = this.byHandle(handle);
    if (!found.ok) {
      return found;
    }
    const m = found.message;
    this.handles.delete(handle);
    m.nextVisibleTime = this.clock.now() + seconds * 1000;
    m.receiptHandle = this.newHandle(m);
    this.counters.mns.visibilityChanges++;
    this.notify();
    return { ok: true, receiptHandle: m.receiptHandle, nextVisibleTime: m.nextVisibleTime };
  }

  stats(): { active: number; inactive: number; delayed: number } {
    const now = this.clock.now();
    this.expire(now);
    let active = 0;
    let inactive = 0;
    let delayed = 0;
    for (const m of this.messages.values()) {
      if (m.nextVisibleTime <= now) {
        active++;
      } else if (m.dequeueCount === 0) {
        delayed++;
      } else {
        inactive++;
      }
    }
    return { active, inactive, delayed };
  }

  /** Every stored message, visible or not (control API). */
  snapshot(): MessageView[] {
    return [...this.messages.values()].map((m) => this.view(m, true));
  }

  /** Hand visible messages to waiting long polls; call after anything that may free messages. */
  notify(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const got = this.receive(waiter.max);
      if (got.length === 0) {
        break;
      }
      waiter.resolve(got);
    }
    this.scheduleWake();
  }

  /** End every long poll (server shutdown). */
  close(): void {
    for (const waiter of [...this.waiters]) {
      waiter.resolve([]);
    }
    clearTimeout(this.wakeTimer);
  }

  /**
   * The first `max` visible messages in priority order. Sorting a 50k backlog on every receive
   * made the simulator, not the consumer, the bottleneck of bench/mns.ts; while every message
   * has the same priority (the usual case) insertion order is already the answer, so the scan
   * stops as soon as it has `max`.
   */
  private visible(now: number, max = Number.POSITIVE_INFINITY): StoredMessage[] {
    if (now - this.lastExpire >= 1000 || now < this.lastExpire) {
      this.expire(now);
      this.lastExpire = now;
    }
    if (this.otherPriorities === 0) {
      const out: StoredMessage[] = [];
      for (const m of this.messages.values()) {
        if (m.nextVisibleTime <= now) {
          out.push(m);
          if (out.length >= max) {
            break;
          }
        }
      }
      return out;
    }
    return [...this.messages.values()]
      .filter((m) => m.nextVisibleTime <= now)
      .sort((a, b) => a.priority - b.priority || a.seq - b.seq)
      .slice(0, max);
  }

  private lastExpire = Number.NEGATIVE_INFINITY;
  /** Messages whose priority is not the default 8 (then the full sort is needed). */
  private otherPriorities = 0;

  private forget(m: StoredMessage): void {
    if (this.messages.delete(m.messageId) && m.priority !== DEFAULT_PRIORITY) {
      this.otherPriorities--;
    }
  }

  private expire(now: number): void {
    const retentionMs = this.attributes.messageRetentionPeriod * 1000;
    for (const m of this.messages.values()) {
      if (m.enqueueTime + retentionMs <= now) {
        this.forget(m);
        if (m.receiptHandle !== undefined) {
          this.handles.delete(m.receiptHandle);
        }
      }
    }
  }

  /** Wake waiters when the next invisible message becomes visible again. */
  private scheduleWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.waiters.length === 0) {
      return;
    }
    const now = this.clock.now();
    let next = Infinity;
    for (const m of this.messages.values()) {
      if (m.nextVisibleTime > now && m.nextVisibleTime < next) {
        next = m.nextVisibleTime;
      }
    }
    if (next !== Infinity) {
      this.wakeTimer = setTimeout(() => this.notify(), Math.max(1, next - now));
    }
  }

  private byHandle(
    handle: string,
  ):
    | { ok: true; message: StoredMessage }
    | { ok: false; code: "MessageNotExist" | "ReceiptHandleError" } {
    if (!HANDLE_PATTERN.test(handle)) {
      return { ok: false, code: "ReceiptHandleError" };
    }
    const id = this.handles.get(handle);
    const m = id === undefined ? undefined : this.messages.get(id);
    if (!m || m.receiptHandle !== handle || m.nextVisibleTime <= this.clock.now()) {
      return { ok: false, code: "MessageNotExist" };
    }
    return { ok: true, message: m };
  }

  private newHandle(m: StoredMessage): string {
    const handle = `${m.dequeueCount}-${randomAlnum(32)}`;
    this.handles.set(handle, m.messageId);
    return handle;
  }

  private view(m: StoredMessage, withHandle: boolean): MessageView {
    return {
      messageId: m.messageId,
      body: m.body,
      bodyMd5: m.bodyMd5,
      enqueueTime: m.enqueueTime,
      firstDequeueTime: m.firstDequeueTime ?? m.enqueueTime,
      nextVisibleTime: m.nextVisibleTime,
      dequeueCount: m.dequeueCount,
      priority: m.priority,
      receiptHandle: withHandle ? m.receiptHandle : undefined,
    };
  }
}
