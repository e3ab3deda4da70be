/** Local HTTP(S) servers and proxies for the download tests (offline). */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";

/** A running server: its base URL (ending in `/`), the requests it saw, and `close()`. */
export interface TestServer {
  url: string;
  port: number;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** Serves `files` by path without the leading `/` (404 for others); `handler` may take over a request by returning true. */
export function fileHandler(files: Record<string, Buffer>, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): http.RequestListener {
  return (req, res) => {
    if (handler?.(req, res)) return;
    const name = new URL(req.url ?? "/", "http://x").pathname.slice(1);
    const body = files[name];
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Length": body.length, "Content-Type": "application/octet-stream" });
    // In several chunks, so progress is reported more than once.
    const step = Math.max(1, Math.ceil(body.length / 8));
    for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step));
    res.end();
  };
}

/** Starts `server` on a free port of 127.0.0.1. */
export async function listen(server: http.Server | https.Server, scheme = "http", host = "127.0.0.1"): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  server.on("request", (req) => requests.push(req));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${scheme}://${host}:${port}/`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server with {@link fileHandler}. */
export function serveFiles(files: Record<string, Buffer>, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<TestServer> {
  return listen(http.createServer(fileHandler(files, handler)));
}

/**
 * A forward proxy: absolute-form GETs are answered by `files` (as if fetched
 * from the origin); CONNECT is tunnelled to 127.0.0.1 at the requested port,
 * or refused with `refuse` as the status. Records what it saw in `seen`.
 */
export async function startProxy(files: Record<string, Buffer>, refuse?: number): Promise<TestServer & { seen: string[]; headers: http.IncomingHttpHeaders[] }> {
  const seen: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    fileHandler(files)(req, res);
  });
  const sockets = new Set<net.Socket>();
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    headers.push(req.headers);
    if (refuse) {
      client.end(`HTTP/1.1 ${refuse} Forbidden\r\n\r\n`);
      return;
    }
    const port = Number((req.url ?? "").split(":").pop());
    const upstream = net.connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream).add(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const base = await listen(server);
  return {
    ...base,
    seen,
    headers,
    close: async () => {
      for (const s of sockets) s.destroy();
      await base.close();
    },
  };
}

/** A self-signed certificate for `localhost` made with the openssl CLI, or undefined when openssl is absent. */
export function selfSignedCert(dir: string): { key: Buffer; cert: Buffer } | undefined {
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
      { stdio: "ignore" },
    );
  } catch {
    return undefined;
  }
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}
