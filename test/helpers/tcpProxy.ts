/**
 * A TCP proxy on loopback that a test can cut and restore, to take PostgreSQL or Redis "down"
 * for the process under test without touching the shared servers (a toxiproxy stand-in).
 */
import net from "node:net";

export interface TcpProxy {
  port: number;
  url(template: string): string;
  /** Close every connection and refuse new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;

  function listen(): Promise<void> {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    server = s;
    return new Promise((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  async function cut(): Promise<void> {
    const s = server;
    server = undefined;
    for (const sock of sockets) {
      sock.destroy();
    }
    sockets.clear();
    if (s) {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  await listen();
  return {
    get port() {
      return port;
    },
    url(template: string) {
      const u = new URL(template);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    cut,
    restore: listen,
    close: cut,
  };
}
