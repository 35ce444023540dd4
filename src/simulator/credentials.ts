/**
 * Who the simulated account knows: the account AccessKey pair, and the short-lived STS
 * credentials handed out by QueryTokenForMnsQueue (scoped to one message type / queue).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

import type { Clock } from "./clock.js";
import { randomAlnum } from "./ids.js";

export interface AccountCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface StsCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  createdAt: number;
  expiresAt: number;
  /** What QueryTokenForMnsQueue was asked for; MNS access is limited to matching queues. */
  messageType: string;
  queueName: string | undefined;
}

export type KeyLookup =
  { kind: "account"; secret: string } | { kind: "sts"; secret: string; sts: StsCredential };

/** Why a request's STS token is not acceptable. */
export type StsProblem = "missing" | "mismatch" | "expired";

/** Expired STS entries are kept this long so they fail as "expired", not "unknown key". */
const KEEP_EXPIRED_MS = 24 * 3600 * 1000;

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class CredentialStore {
  private readonly sts = new Map<string, StsCredential>();

  constructor(
    readonly account: AccountCredentials,
    private readonly clock: Clock,
  ) {}

  lookup(accessKeyId: string): KeyLookup | undefined {
    if (accessKeyId === this.account.accessKeyId) {
      return { kind: "account", secret: this.account.accessKeySecret };
    }
    const sts = this.sts.get(accessKeyId);
    return sts ? { kind: "sts", secret: sts.accessKeySecret, sts } : undefined;
  }

  issueSts(messageType: string, queueName: string | undefined, lifetimeMs: number): StsCredential {
    this.prune();
    const createdAt = this.clock.now();
    const cred: StsCredential = {
      accessKeyId: `STS.NT${randomAlnum(22)}`,
      accessKeySecret: randomAlnum(44),
      securityToken: `CAIS${randomBytes(240).toString("base64")}`,
      createdAt,
      expiresAt: createdAt + lifetimeMs,
      messageType,
      queueName,
    };
    this.sts.set(cred.accessKeyId, cred);
    return cred;
  }

  checkToken(sts: StsCredential, token: string | undefined): StsProblem | undefined {
    if (token === undefined || token === "") {
      return "missing";
    }
    if (!safeEqual(token, sts.securityToken)) {
      return "mismatch";
    }
    return this.clock.now() >= sts.expiresAt ? "expired" : undefined;
  }

  private prune(): void {
    const cutoff = this.clock.now() - KEEP_EXPIRED_MS;
    for (const [id, cred] of this.sts) {
      if (cred.expiresAt < cutoff) {
        this.sts.delete(id);
      }
    }
  }
}
