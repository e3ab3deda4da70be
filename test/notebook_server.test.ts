/**
 * What `npm start` serves: Debian's Jupyter Notebook with the convlab kernel
 * registered, checked through the server's own REST API.
 */
import { spawn } from "child_process";
import { randomUUID } from "crypto";
import * as http from "http";
import WebSocket from "ws";
import { CLI, ROOT } from "./helpers";

function request(method: string, url: string, payload?: object): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { "Content-Type": "application/json" } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body ? JSON.parse(body) : undefined }));
    });
    req.on("error", reject);
    req.end(payload ? JSON.stringify(payload) : undefined);
  });
}

it("serves notebooks/ on 127.0.0.1 with the convlab kernel listed and startable", async () => {
  const server = spawn(process.execPath, [CLI, "notebook", "notebooks", "--no-browser"], {
    cwd: ROOT,
    env: { ...process.env, CONVLAB_TOKEN: "test-token" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += d;
        const m = /convlab: open (http:\/\/127\.0\.0\.1:\d+\/\?token=test-token)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.on("exit", (code) => reject(new Error(`notebook server exited with ${code}: ${out}`)));
    });
    const base = url.replace(/\/\?token=.*/, "");
    const specs = await request("GET", `${base}/api/kernelspecs?token=test-token`);
    expect(specs.body.kernelspecs.convlab.spec).toMatchObject({ display_name: "TypeScript (convlab)", language: "typescript", interrupt_mode: "signal" });
    const contents = await request("GET", `${base}/api/contents?token=test-token`);
    expect(contents.body.content.map((c: any) => c.name)).toContain("01-cnn-mnist.ipynb");
    const started = await request("POST", `${base}/api/kernels?token=test-token`, { name: "convlab" });
    expect(started.status).toBe(201);
    expect(started.body.name).toBe("convlab");
    // Run a cell through the server's websocket, as the notebook page does.
    const result = await executeOverWebsocket(`${base.replace("http", "ws")}/api/kernels/${started.body.id}/channels?token=test-token`, "6 * 7");
    expect(result).toEqual({ "text/plain": "42" });
    expect((await request("DELETE", `${base}/api/kernels/${started.body.id}?token=test-token`)).status).toBe(204);
  } finally {
    server.kill("SIGINT");
    await new Promise((r) => server.once("exit", r));
  }
});

/** Sends one execute_request over the kernel channels websocket and returns the execute_result data. */
function executeOverWebsocket(url: string, code: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const msgId = randomUUID();
    const timer = setTimeout(() => reject(new Error("no execute_result within 60 s")), 60_000);
    ws.on("open", () => {
      ws.send(
        JSON.stringify({
          channel: "shell",
          header: { msg_id: msgId, msg_type: "execute_request", session: randomUUID(), username: "test", version: "5.3", date: new Date().toISOString() },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
          buffers: [],
        }),
      );
    });
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.parent_header?.msg_id === msgId && msg.msg_type === "execute_result") {
        clearTimeout(timer);
        ws.close();
        resolve(msg.content.data);
      }
    });
    ws.on("error", reject);
  });
}
