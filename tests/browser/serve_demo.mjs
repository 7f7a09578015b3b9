// What a browser test starts with: a demo city served by a real `fundledger serve` on a loopback
// port, its tokens, clients that sign their commands as the demo's staff, and Debian's Chromium,
// headless. The caller stops both (server.kill, browser.close) in a finally block.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";
import { chromium } from "playwright-core";

// A client of the API at `base` with a bearer token, signing every command (api/README.md,
// "Signed requests") with the key file `fundledger demo` wrote for `actor` at `dir`.keys/staff/
// (a C2SP signer key: PRIVATE+KEY+name+id+base64(0x01 || seed)); without one it signs nothing.
// (method, path, body, type) answers {status, json, size: the log size header}.
export async function signingClient(base, dir, token, actor, role) {
  const file = `${dir}.keys/staff/${actor}.key`;
  let key = null, keyId = "";
  if (existsSync(file)) {
    const seed = Buffer.from(readFileSync(file, "utf8").trim().split("+").slice(4).join("+"), "base64").subarray(1);
    key = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
    const publicRaw = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
    keyId = createHash("sha256").update(publicRaw).digest("hex").slice(0, 16);
  }
  const origin = (await (await fetch(base + "/v1/key")).text()).trim().split("+")[0];
  const events = [];  // [pattern, event type] of each command route, from its x-event
  for (const [pattern, ops] of Object.entries((await (await fetch(base + "/v1/openapi.json")).json()).paths)) {
    if (ops.post && ops.post["x-event"]) events.push([new RegExp("^" + pattern.replace(/\{[^}]+\}/g, "[^/]+") + "$"), ops.post["x-event"]]);
  }
  return async (method, path, body, type = "application/json") => {
    const bytes = Buffer.from(body === undefined ? "" : type === "application/json" ? JSON.stringify(body) : body);
    const headers = { Authorization: "Bearer " + token, "Idempotency-Key": "k" + Math.random(), "Content-Type": type };
    const found = key && method === "POST" && events.find(([re]) => re.test(path.split("?")[0]));
    if (found) {
      const message = ["fundledger-command/v1", origin, found[1], `${actor} ${role}`, headers["Idempotency-Key"], `POST ${path}`,
                       createHash("sha256").update(bytes).digest("hex")].map((l) => l + "\n").join("");
      headers["Fundledger-Signature"] = keyId + ":" + sign(null, Buffer.from(message), key).toString("base64");
    }
    const res = await fetch(base + path, { method, headers, body: method === "POST" ? bytes : undefined });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json, size: Number(res.headers.get("Fundledger-Log-Size")) };
  };
}

// The key the console in `page` handed in for `name`, registered by `admin` (a signing client),
// and the page reloaded so that it signs with it: what a person's first day needs on a ledger
// that requires signing.
export async function registerBrowserKey(page, admin, name) {
  await page.waitForSelector("#key-state:not(:empty)");
  const account = (await admin("GET", "/v1/accounts")).json.accounts.find((a) => a.name === name);
  const r = await admin("POST", "/v1/actor-keys", { actor: name, public_key: account.enrolling_key.public_key, document: "test" });
  if (r.status !== 201) throw new Error(`registering ${name}'s browser key: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  await page.reload();
  await page.waitForSelector("#key-state.ok");
}

// `demoArgs`: more flags for `fundledger demo` (["--no-signing"]). `as(role)`: a signing client
// with that role's token.
export async function serveDemoCity(cli, dir, people = 60, months = 3, demoArgs = []) {
  const demo = execFileSync(cli, ["demo", "--data", dir, "--people", String(people), "--months", String(months), ...demoArgs],
                            { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const lines = demo.trim().split("\n").filter((l) => l.startsWith("token ")).map((l) => l.split(" "));
  const tokens = Object.fromEntries(lines.map((w) => [w[1], w[3]]));
  const actors = Object.fromEntries(lines.map((w) => [w[1], w[2]]));
  const server = spawn(cli, ["serve", "--data", dir, "--listen", "127.0.0.1:0", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (d) => { text += d; const m = text.match(/127\.0\.0\.1:(\d+)/); if (m) resolve(Number(m[1])); });
    server.on("exit", () => reject(new Error("the server exited: " + text)));
  });
  const base = "http://127.0.0.1:" + port;
  return { base, tokens, server, as: (role) => signingClient(base, dir, tokens[role], actors[role], role) };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}

// A console test's start: an empty output directory, the demo city served (`people`, `months`),
// a tally of checks, and a client calling the API with the admin's bearer token, signing as the
// admin (each answer's status, JSON and log size). The caller stops `server` in a finally block.
export async function startConsoleTest(cli, out, people = 60, months = 3) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tally = { passed: 0, failed: 0 };
  const check = (ok, what) => {
    tally[ok ? "passed" : "failed"]++;
    console.log((ok ? "ok   " : "FAIL ") + what);
  };
  const city = await serveDemoCity(cli, out + "/city", people, months);
  const admin = await city.as("admin");
  return { ...city, tally, check, admin };
}
