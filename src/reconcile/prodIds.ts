/**
 * Choosing the ProdId. QueryCallDetailByCallId only answers when ProdId matches the product the
 * call was made with (docs/alibaba.md §4.1), and nothing in a receipt names the product. So we try
 * VMS_RECONCILE_PROD_IDS in order and learn, per kind of call, which one answered: calls of a
 * business share an out_id scheme (`ALICOM_SMART_SAAS^…` for robot tasks, `order-…`, `code…`),
 * so the out_id prefix is the key. What is learnt lives in one Redis hash that every process
 * reads and adds to, so once a kind is known the common case costs one call.
 */
import {
  callProduct,
  PROD_ID_PRODUCTS,
  ROBOT_OUT_ID_PREFIX,
  type Product,
} from "../domain/callDimensions.js";
import type { RedisConnection } from "../infra/redis.js";

/** Robot (smart outbound) task calls: `ALICOM_SMART_SAAS^<task>^<id>` (docs/alibaba.md §5). */
export const SAAS_PREFIX = ROBOT_OUT_ID_PREFIX;

/** A kind is trusted once it has this many answers and this share went to one ProdId. */
export const CONFIDENT_MIN_ANSWERS = 5;
export const CONFIDENT_SHARE = 0.9;
/** A trusted kind still tries every ProdId on every Nth empty round and on the last one. */
export const FULL_SWEEP_EVERY = 4;

/** What the receipts reveal about a call's product (the report dimension `product`). */
export interface ProductClues {
  /** calls.dtmf: keys pressed, so an IVR call (src/domain/callDimensions.ts, rule 5). */
  dtmf?: string | null;
  /** calls.voice_type: `asr` / `smart_transfer` only come from SmartCall (rule 4). */
  voiceType?: string | null;
  /** calls.early_media_code: only SmartCall receipts carry it (rule 4). */
  earlyMediaCode?: string | null;
}

/**
 * The product the receipts reveal, when they reveal one: `smart` or `ivr` by rules 4 and 5 of
 * the report dimension (callProduct, src/domain/callDimensions.ts) on the row's own columns,
 * before any ProdId is known. Notification and verification calls look alike in their
 * receipts: no clue then.
 */
export function productClue(c: ProductClues): "smart" | "ivr" | undefined {
  const product = callProduct({
    direction: "outbound",
    outId: null,
    prodId: null,
    smartTrace:
      c.voiceType === "asr" || c.voiceType === "smart_transfer" || (c.earlyMediaCode ?? "") !== "",
    dtmf: c.dtmf ?? null,
  });
  return product === "smart" || product === "ivr" ? product : undefined;
}

/**
 * The learning key of a call: `saas` for robot tasks, else the out_id's leading letters (and the
 * separator after them), `digits` for numeric out_ids. Without an out_id, `none` would mix every
 * product (each call then tries ProdIds in the order of the most frequent), so the product the
 * receipts reveal splits it: `none:ivr`, `none:smart`, else `none`.
 */
export function prodIdKey(outId: string | null, clues: ProductClues = {}): string {
  if (outId === null || outId === "") {
    const clue = productClue(clues);
    return clue ? `none:${clue}` : "none";
  }
  if (outId.startsWith(SAAS_PREFIX)) {
    return "saas";
  }
  const m = /^[\p{L}_]{1,16}[-_.#/:|^]?/u.exec(outId);
  return m ? `p:${m[0]}` : "digits";
}

/** The ProdId of a product (callDimensions.ts PROD_ID_PRODUCTS). */
const prodIdOf = (product: Product): string =>
  Object.keys(PROD_ID_PRODUCTS).find((id) => PROD_ID_PRODUCTS[id] === product) as string;

/**
 * The ProdId a key's calls most likely use before anything was learnt: the product's own
 * (docs/alibaba.md §4.1) for IVR and SmartCall clues, 智能外呼 for robot tasks (undocumented,
 * hence only a guess: it orders the first tries, it decides nothing).
 */
export const LIKELY_PROD_IDS: Readonly<Record<string, string>> = Object.freeze({
  saas: prodIdOf("smart"),
  "none:smart": prodIdOf("smart"),
  "none:ivr": prodIdOf("ivr"),
});

/** Answers per ProdId for one key. */
export type ProdIdStats = ReadonlyMap<string, number>;

/**
 * Configured ProdIds, those that answered most often for this key first; ties: the key's likely
 * ProdId (LIKELY_PROD_IDS, when `key` is given), then config order.
 */
export function orderProdIds(
  configured: readonly string[],
  stats: ProdIdStats | undefined,
  key?: string,
): string[] {
  const likely = key === undefined ? undefined : LIKELY_PROD_IDS[key];
  const rank = (id: string) => (stats?.get(id) ?? 0) + (id === likely ? 0.5 : 0);
  return configured
    .map((id, i) => ({ id, i }))
    .sort((a, b) => rank(b.id) - rank(a.id) || a.i - b.i)
    .map((x) => x.id);
}

/** The ProdId this key almost always answered with, if it is trusted. */
export function confidentProdId(
  configured: readonly string[],
  stats: ProdIdStats | undefined,
): string | undefined {
  if (!stats) {
    return undefined;
  }
  let total = 0;
  let best: string | undefined;
  let bestCount = 0;
  for (const id of configured) {
    const n = stats.get(id) ?? 0;
    total += n;
    if (n > bestCount) {
      best = id;
      bestCount = n;
    }
  }
  return total >= CONFIDENT_MIN_ANSWERS && bestCount >= CONFIDENT_SHARE * total ? best : undefined;
}

/**
 * The ProdIds to try in one round. A trusted key asks only its ProdId: an empty answer then
 * almost always means "not there yet" (the 3–5 min lag), and asking the others would spend
 * quota for nothing. Every FULL_SWEEP_EVERY-th round, and the final one before giving up, try
 * them all so that a call of an unusual product is still found.
 */
export function planRound(
  configured: readonly string[],
  stats: ProdIdStats | undefined,
  round: { attempts: number; final: boolean },
  key?: string,
): string[] {
  const trusted = confidentProdId(configured, stats);
  const sweep = round.final || round.attempts % FULL_SWEEP_EVERY === FULL_SWEEP_EVERY - 1;
  if (trusted !== undefined && !sweep) {
    return [trusted];
  }
  return orderProdIds(configured, stats, key);
}

export interface ProdIdMemory {
  stats(key: string): Promise<ProdIdStats | undefined>;
  /** Every key's stats (unsupportedKinds.ts compares a kind with the others). */
  all(): Promise<ReadonlyMap<string, ProdIdStats>>;
  learn(key: string, prodId: string): Promise<void>;
  /** Add one to a counter of the key that is not a ProdId (unsupportedKinds.ts). */
  note(key: string, field: string): Promise<void>;
  /** Set a flag of the key; true only for the one caller that set it first (in any process). */
  flagOnce(key: string, field: string): Promise<boolean>;
}

const SEP = "\t";

/**
 * The shared memory: Redis hash `<hashKey>` with fields `<key>\t<prodId>` → answers. Each
 * process keeps a copy refreshed every `refreshMs`; a Redis hiccup only makes it stale. Two
 * seconds: what one process learns (a ProdId, an unsupported kind) reaches the others before
 * they spend many requests finding it out again; one HGETALL of a small hash is cheap.
 */
export function createProdIdMemory(
  redis: RedisConnection,
  hashKey: string,
  refreshMs = 2_000,
): ProdIdMemory {
  let cache = new Map<string, Map<string, number>>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  const bump = (key: string, prodId: string, n: number) => {
    let m = cache.get(key);
    if (!m) {
      m = new Map();
      cache.set(key, m);
    }
    m.set(prodId, (m.get(prodId) ?? 0) + n);
  };

  async function refresh(): Promise<void> {
    try {
      const all = await redis.hgetall(hashKey);
      cache = new Map();
      for (const [field, value] of Object.entries(all)) {
        const at = field.lastIndexOf(SEP);
        const n = Number(value);
        if (at > 0 && Number.isFinite(n)) {
          bump(field.slice(0, at), field.slice(at + 1), n);
        }
      }
    } catch {
      // Keep what we had; ProdIds are then merely tried in a less clever order.
    } finally {
      loadedAt = Date.now();
    }
  }

  async function fresh(): Promise<Map<string, Map<string, number>>> {
    if (Date.now() - loadedAt > refreshMs) {
      loading ??= refresh().finally(() => {
        loading = undefined;
      });
      await loading;
    }
    return cache;
  }

  return {
    async stats(key) {
      return (await fresh()).get(key);
    },
    all: fresh,
    async learn(key, prodId) {
      bump(key, prodId, 1);
      await redis.hincrby(hashKey, `${key}${SEP}${prodId}`, 1).catch(() => {});
    },
    async note(key, field) {
      bump(key, field, 1);
      await redis.hincrby(hashKey, `${key}${SEP}${field}`, 1).catch(() => {});
    },
    async flagOnce(key, field) {
      if (cache.get(key)?.has(field)) {
        return false;
      }
      bump(key, field, 1);
      // A Redis hiccup: say no rather than log the same news from every process.
      return (await redis.hsetnx(hashKey, `${key}${SEP}${field}`, 1).catch(() => 0)) === 1;
    },
  };
}
