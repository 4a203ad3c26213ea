// A local stand-in for the live list sources (docs/lists.md, "Scheduled refresh"), on
// 127.0.0.1: `npm start` and the worker tests point LIST_SOURCES_URL at it, so the Cron
// Trigger's refresh runs offline. Each source id has
//   GET /<id>                             a list file (plain or Spamhaus NDJSON), as set
//   GET /<id>/v1/decisions/stream         a CrowdSec LAPI decision stream, as documented:
//        X-Api-Key checked (403 otherwise); ?startup=true answers every active decision
//        under "new"; later polls answer what was added and deleted since the key's last pull.
// Control (tests): POST /__control/file/<id> {status, body}; POST /__control/crowdsec/<id>
// {key?, add?: [decision], delete?: [value]}. Files in `dir` (one per source id) seed it.
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Start the stand-in; `dir` (optional) holds a file per source id. */
export async function startListSourcesStandin({ port = 0, dir = null, quiet = false } = {}) {
  const files = new Map();
  if (dir !== null) for (const name of readdirSync(dir)) files.set(name, { status: 200, body: readFileSync(join(dir, name), "utf8") });
  /** id → { key, active: Map<value, decision>, pending: {new, deleted} per key } */
  const lapis = new Map();
  const lapi = (id) => {
    let l = lapis.get(id);
    if (l === undefined) {
      l = { key: "", active: new Map(), added: [], deleted: [] };
      lapis.set(id, l);
    }
    return l;
  };
  const json = (res, status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://standin");
    const body = await readBody(req);
    const control = /^\/__control\/(file|crowdsec)\/([a-z0-9-]+)$/.exec(url.pathname);
    if (req.method === "POST" && control !== null) {
      const input = JSON.parse(body || "{}");
      if (control[1] === "file") files.set(control[2], { status: input.status ?? 200, body: input.body ?? "" });
      else {
        const l = lapi(control[2]);
        if (typeof input.key === "string") l.key = input.key;
        for (const d of input.add ?? []) {
          l.active.set(d.value, d);
          l.added.push(d);
        }
        for (const value of input.delete ?? []) {
          const d = l.active.get(value);
          if (d === undefined) continue;
          l.active.delete(value);
          l.added = l.added.filter((a) => a.value !== value);
          l.deleted.push({ ...d, duration: "-1s" });
        }
      }
      return json(res, 200, { ok: true });
    }
    const stream = /^\/([a-z0-9-]+)\/v1\/decisions\/stream$/.exec(url.pathname);
    if (req.method === "GET" && stream !== null) {
      const l = lapi(stream[1]);
      if (l.key === "" || req.headers["x-api-key"] !== l.key) return json(res, 403, { message: "access forbidden" });
      const startup = url.searchParams.get("startup") === "true";
      const answer = startup ? { new: [...l.active.values()], deleted: null } : { new: l.added.length > 0 ? l.added : null, deleted: l.deleted.length > 0 ? l.deleted : null };
      l.added = [];
      l.deleted = [];
      return json(res, 200, answer);
    }
    const file = files.get(url.pathname.slice(1));
    if (req.method === "GET" && file !== undefined) {
      res.writeHead(file.status, { "content-type": "text/plain; charset=utf-8" });
      return res.end(file.body);
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("no such source\n");
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  if (!quiet) console.log(`list sources stand-in on ${url}`);
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
