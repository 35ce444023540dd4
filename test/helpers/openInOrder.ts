/**
 * What a test opens (databases, servers, daemons, key prefixes), closed in the reverse order
 * by one stop(); when opening fails part way, what was opened is closed before the error is
 * thrown, so no server or database outlives a failed beforeAll.
 */
export type CloseLater = <R>(resource: R, close: (resource: R) => Promise<unknown>) => R;

export async function openInOrder<T extends object>(
  open: (later: CloseLater) => Promise<T>,
): Promise<T & { stop(): Promise<void> }> {
  const closers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (let close = closers.pop(); close; close = closers.pop()) {
      await close();
    }
  };
  const later: CloseLater = (resource, close) => {
    closers.push(() => close(resource));
    return resource;
  };
  try {
    return { ...(await open(later)), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
