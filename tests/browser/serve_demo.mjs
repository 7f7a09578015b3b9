// What a browser test starts and ends with: a demo city served by a real `fundledger serve` on a
// loopback port, its tokens, clients that sign their commands as the demo's staff, Debian's
// Chromium, headless, and a tally of checks. Every server and browser started here is recorded;
// finishConsoleTest stops them all, whatever happened, and exits with the test's status.
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
  await page.waitForSelector("#key-state[data-signer]", { state: "attached" });
  const account = (await admin("GET", "/v1/accounts")).json.accounts.find((a) => a.name === name);
  const r = await admin("POST", "/v1/actor-keys", { actor: name, public_key: account.enrolling_key.public_key, document: "test" });
  if (r.status !== 201) throw new Error(`registering ${name}'s browser key: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  await page.reload();
  await page.waitForSelector("#key-state.ok");
}

// The month after the newest approved roll of `fund` (client: a signing client), that roll, its
// first `count` lines and `yuan(fen)`, the amount as a roll writes it: what a test's next-month
// roll is made of.
export async function nextMonthRoll(client, count, fund = "F-SUBSIDY") {
  const approved = (await client("GET", "/v1/disbursement-batches?status=approved&fund_id=" + fund)).json.batches;
  const last = approved.sort((a, b) => a.period.localeCompare(b.period)).pop();
  const lines = (await client("GET", "/v1/disbursement-batches/" + last.batch_id + "?lines=1")).json.lines.slice(0, count);
  const [y, m] = last.period.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
  return { last, lines, next, yuan };
}

// `demoArgs`: more flags for `fundledger demo` (["--no-signing"]). `as(role)`: a signing client
// with that role's token.
export async function serveDemoCity(cli, dir, people = 60, months = 3, demoArgs = []) {
  const demo = execFileSync(cli, ["demo", "--data", dir, "--people", String(people), "--months", String(months), ...demoArgs],
                            { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const lines = demo.trim().split("\n").filter((l) => l.startsWith("token ")).map((l) => l.split(" "));
  const tokens = Object.fromEntries(lines.map((w) => [w[1], w[3]]));
  const actors = Object.fromEntries(lines.map((w) => [w[1], w[2]]));
  // The demo's console accounts: role -> {name, password}.
  const accounts = Object.fromEntries(demo.trim().split("\n").filter((l) => l.startsWith("account "))
    .map((l) => l.split(" ")).map((w) => [w[1], { name: w[2], password: w[3] }]));
  const { server, base } = await serveOnLoopback(cli, "serve", "--data", dir, "--quiet");
  return { base, tokens, actors, accounts, server, as: (role) => signingClient(base, dir, tokens[role], actors[role], role) };
}

const started = { servers: [], browsers: [] };  // what finishConsoleTest stops
const serverStartMs = 60_000;  // from spawn to the listening line, generous for a busy machine
const serverStopMs = 10_000;   // from SIGTERM to exit, then SIGKILL

// Starts `fundledger ...args --listen 127.0.0.1:0` and resolves to {server, base} once it says
// where it listens; rejects (the server stopped) when it exits or is silent for serverStartMs.
export async function serveOnLoopback(cli, ...args) {
  const server = spawn(cli, [...args, "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  started.servers.push(server);
  let text = "", errors = "", timer;
  server.stderr.on("data", (d) => { errors += d; });
  try {
    const port = await new Promise((resolve, reject) => {
      server.stdout.on("data", (d) => { text += d; const m = text.match(/127\.0\.0\.1:(\d+)/); if (m) resolve(Number(m[1])); });
      server.on("exit", (code) => reject(new Error(`${args[0]} exited (${code}): ${text}${errors}`)));
      server.on("error", reject);  // it could not be started
      timer = setTimeout(() => reject(new Error(`${args[0]} did not listen within ${serverStartMs} ms: ${text}${errors}`)), serverStartMs);
    });
    return { server, base: "http://127.0.0.1:" + port };
  } catch (e) {
    await stopServer(server);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

// Stops `server` (SIGTERM, SIGKILL after serverStopMs) and resolves once it has exited.
export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.pid === undefined || server.exitCode !== null || server.signalCode !== null) return resolve();
    const timer = setTimeout(() => server.kill("SIGKILL"), serverStopMs);
    server.once("exit", () => { clearTimeout(timer); resolve(); });
    server.kill("SIGTERM");
  });
}

// A page of the console at `base` in a new context of `browser` (`options`: the context's, such
// as its viewport), each script error on it a failed `check`; logged in as `account` ({name,
// password}) when one is given, once the work and the key's state show.
export async function consolePage(browser, base, check, options, account) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(60_000);  // generous for a busy machine
  const page = await context.newPage();
  page.on("pageerror", (e) => check(false, "no script error on the page: " + e.message));
  await page.goto(base + "/console");
  await page.waitForSelector("#login-form");
  if (!account) return page;
  await page.fill("#login-name", account.name);
  await page.fill("#login-password", account.password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#work:not([hidden])");
  await page.waitForSelector("#key-state[data-signer]", { state: "attached" });
  return page;
}

export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  started.browsers.push(browser);
  return browser;
}

// A test's tally of checks: `check(ok, what)` counts and prints one.
export function newTally() {
  const tally = { passed: 0, failed: 0 };
  const check = (ok, what) => {
    tally[ok ? "passed" : "failed"]++;
    console.log((ok ? "ok   " : "FAIL ") + what);
  };
  return { tally, check };
}

// A browser test's end, whatever happened: runs `body` (an async function; what it throws counts
// as one failure), closes every browser and stops every server started here, prints the tally
// and exits: 0 when something was checked and nothing failed, else 1. Never returns.
export async function finishConsoleTest(tally, body) {
  try {
    await body();
  } catch (e) {
    tally.failed++;
    console.log("FAIL " + ((e && e.stack) || e));
  }
  await Promise.all(started.browsers.map((b) => b.close().catch(() => {})));
  await Promise.all(started.servers.map(stopServer));
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed || !tally.passed ? 1 : 0);
}

// A console test's start: an empty output directory, the demo city served (`people`, `months`,
// more `demoArgs` for `fundledger demo`), a tally of checks, and a client calling the API with
// the admin's bearer token, signing as the admin (each answer's status, JSON and log size). When
// the start fails, the test ends there (finishConsoleTest: what started is stopped, it fails).
export async function startConsoleTest(cli, out, people = 60, months = 3, demoArgs = []) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const { tally, check } = newTally();
  try {
    const city = await serveDemoCity(cli, out + "/city", people, months, demoArgs);
    return { ...city, dir: out + "/city", tally, check, admin: await city.as("admin") };
  } catch (e) {
    return finishConsoleTest(tally, () => { throw e; });
  }
}
