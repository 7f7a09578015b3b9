// What a browser test starts with: a demo city served by a real `fundledger serve` on a loopback
// port, its tokens, and Debian's Chromium, headless. The caller stops both (server.kill,
// browser.close) in a finally block.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { chromium } from "playwright-core";

// `demoArgs`: more flags for `fundledger demo` (["--require-signing"]).
export async function serveDemoCity(cli, dir, people = 60, months = 3, demoArgs = []) {
  const demo = execFileSync(cli, ["demo", "--data", dir, "--people", String(people), "--months", String(months), ...demoArgs],
                            { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const tokens = Object.fromEntries(demo.trim().split("\n").filter((l) => l.startsWith("token ")).map((l) => l.split(" ")).map((w) => [w[1], w[3]]));
  const server = spawn(cli, ["serve", "--data", dir, "--listen", "127.0.0.1:0", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (d) => { text += d; const m = text.match(/127\.0\.0\.1:(\d+)/); if (m) resolve(Number(m[1])); });
    server.on("exit", () => reject(new Error("the server exited: " + text)));
  });
  return { base: "http://127.0.0.1:" + port, tokens, server };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}

// A console test's start: an empty output directory, the demo city served (`people`, `months`),
// a tally of checks, and a client calling the API with the admin's bearer token (each answer's
// status, JSON and log size). The caller stops `server` in a finally block.
export async function startConsoleTest(cli, out, people = 60, months = 3) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tally = { passed: 0, failed: 0 };
  const check = (ok, what) => {
    tally[ok ? "passed" : "failed"]++;
    console.log((ok ? "ok   " : "FAIL ") + what);
  };
  const city = await serveDemoCity(cli, out + "/city", people, months);
  const admin = async (method, path, body) => {
    const headers = { Authorization: "Bearer " + city.tokens.admin, "Idempotency-Key": "k" + Math.random(), "Content-Type": "application/json" };
    const res = await fetch(city.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: await res.json(), size: Number(res.headers.get("Fundledger-Log-Size")) };
  };
  return { ...city, tally, check, admin };
}
