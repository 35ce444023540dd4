/**
 * The Lua side of the shared limiter (limiter.ts): one script, atomic in Redis and on Redis's
 * clock, that both adapts the shared rate to what the API answered and grants reservations at
 * that rate. Its keys sit under one hash-tagged prefix, so Redis Cluster keeps them in one slot.
 *
 * The rate follows AIMD (additive increase, multiplicative decrease), the shape TCP congestion
 * avoidance (RFC 5681) and the AWS SDKs' "adaptive" retry mode (a client-side token bucket whose
 * rate drops on throttling errors and climbs back on successes) use: the only signal the account
 * gives about its real quota is the throttling answer, so
 *   - a throttling answer multiplies the rate by `decrease` (0.85), at most once per `cooldown`
 *     (answers to requests sent before a cut say nothing about the new rate, as TCP reduces once
 *     per round trip); at the cap only when a second throttle follows within a window: a lone
 *     throttle there is jitter on the way (requests bunched by queueing), not a smaller quota;
 *   - clean answers add `step` per `rate` of them (about `step` per second at full use) until
 *     the cap, VMS_RECONCILE_QPS, which it never exceeds.
 * Every process reports its answers into the same hash, so N processes move one rate together
 * instead of each backing off alone.
 *
 * Reservations (unchanged from the fixed cap): each grant is a send time `at`, recorded in the
 * window's sorted set, such that
 *   - at ≥ (the floor(rate)-th newest reservation) + window → never more than the rate per window;
 *   - at ≥ (newest reservation) + window / rate              → evenly paced, no bursts;
 *   - at ≤ now + horizon, else the caller is told when to ask again.
 * The client may later move a grant's entry to when its request really went out (limiter.ts,
 * `slot.sent()`: `ZADD XX GT`, only ever later), so the rules above hold over real send times.
 *
 * Reply: { retryAfterMs, rate × 1000, then for each grant: its delay in ms from the script's run,
 * its id (the member in the sorted set) and its time `at` rounded up to the ms, on Redis's clock }.
 */

export const LIMITER_LUA = `
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
local clean = tonumber(ARGV[5])
local throttled = tonumber(ARGV[6])
local decrease = tonumber(ARGV[7])
local step = tonumber(ARGV[8])
local cooldown = tonumber(ARGV[9])
local floor = tonumber(ARGV[10])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local st = redis.call('HMGET', KEYS[2], 'rate', 'cut', 'last')
local rate = math.min(cap, tonumber(st[1]) or cap)
local cut = tonumber(st[2]) or 0
local last = tonumber(st[3]) or 0
if throttled > 0 then
  if (rate < cap or now - last <= window) and now - cut >= cooldown then
    rate = math.max(floor, rate * decrease)
    cut = now
  end
  last = now
elseif clean > 0 and now - cut >= cooldown then
  rate = math.min(cap, rate + step * clean / rate)
end
redis.call('HSET', KEYS[2], 'rate', tostring(rate), 'cut', tostring(cut), 'last', tostring(last))
redis.call('PEXPIRE', KEYS[2], 3600000)

local limit = math.max(1, math.floor(rate))
local gap = window / rate
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local out = {0, math.floor(rate * 1000)}
for i = 1, want do
  local at = now
  local n = redis.call('ZCARD', KEYS[1])
  if n > 0 then
    local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    at = math.max(at, tonumber(newest[2]) + gap)
  end
  if n >= limit then
    local kth = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
    at = math.max(at, tonumber(kth[2]) + window)
  end
  if at - now > horizon then
    out[1] = math.ceil(at - now - horizon)
    break
  end
  local id = redis.call('INCR', KEYS[3])
  redis.call('ZADD', KEYS[1], at, id)
  out[#out + 1] = math.ceil(at - now)
  out[#out + 1] = id
  out[#out + 1] = math.ceil(at)
end
local ttl = math.ceil(window + horizon + 60000)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return out
`;

/** The AIMD knobs; defaults in limiter.ts. */
export interface AimdOptions {
  /** Factor applied to the rate on throttling; default 0.85. */
  decrease?: number;
  /** Rate added per `rate` clean answers; default max(1, cap / 50). */
  step?: number;
  /** Least time between two cuts; default one window. */
  cooldownMs?: number;
  /** Lowest rate; default 1 per window. */
  floor?: number;
}

export type LimiterScriptFn = (
  window: string,
  rate: string,
  seq: string,
  cap: number,
  windowMs: number,
  want: number,
  horizonMs: number,
  clean: number,
  throttled: number,
  decrease: number,
  step: number,
  cooldownMs: number,
  floor: number,
) => Promise<number[]>;
