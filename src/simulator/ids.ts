/** Random identifiers in the shapes Alibaba uses. Not seeded: these never need to repeat. */
import { randomBytes, randomInt, randomUUID } from "node:crypto";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomAlnum(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out += ALNUM[randomInt(ALNUM.length)];
  }
  return out;
}

export function upperHex(bytes: number): string {
  return randomBytes(bytes).toString("hex").toUpperCase();
}

/** MNS request ids look like `5AD846B6027AA042745F56DB` (24 upper-hex characters). */
export function mnsRequestId(): string {
  return upperHex(12);
}

/** POP (RPC) request ids are upper-case UUIDs. */
export function popRequestId(): string {
  return randomUUID().toUpperCase();
}

/** Generated account credentials for `simulate` without configured ones. */
export function generateAccountCredentials(): { accessKeyId: string; accessKeySecret: string } {
  return { accessKeyId: `LTAI5t${randomAlnum(18)}`, accessKeySecret: randomAlnum(30) };
}
