/** The anchor: a bare node:http server that only reads and parses the same bodies. */
import http from "node:http";

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const items = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown[];
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: 0, msg: "ok", n: items.length }));
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${a.port}` }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
