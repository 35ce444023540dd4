/**
 * ISO text of an instant, remembered. A batch repeats the same few instants (a minute of calls,
 * a call's events), and Date#toISOString — or JSON.stringify meeting a Date, which also leaves
 * its fast path for the whole object — was the largest cost of serialising rows.
 */
const isoMemo = new Map<number, string>();
export function isoTime(d: Date): string {
  const t = d.getTime();
  let text = isoMemo.get(t);
  if (text === undefined) {
    if (isoMemo.size >= 4096) {
      isoMemo.clear();
    }
    text = d.toISOString();
    isoMemo.set(t, text);
  }
  return text;
}

/** isoTime of a nullable instant. */
export const isoOrNull = (d: Date | null): string | null => (d === null ? null : isoTime(d));
