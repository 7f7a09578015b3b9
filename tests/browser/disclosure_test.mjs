// Headless Chromium against a real `fundledger serve`: the public list and a published
// disclosure page load, the tables show the report's figures, "verify" says valid, the language
// switch works, and a tampered report (altered in flight) is declared invalid. Screenshots go
// to the output directory. Usage: node disclosure_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { chromium } from "playwright-core";

const [cli, out] = process.argv.slice(2);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) { passed++; console.log("ok   " + what); } else { failed++; console.log("FAIL " + what); } };

// A small demo city and its tokens.
const demo = execFileSync(cli, ["demo", "--data", out + "/city", "--people", "60", "--months", "3"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
const tokens = Object.fromEntries(demo.trim().split("\n").filter((l) => l.startsWith("token ")).map((l) => l.split(" ")).map((w) => [w[1], w[3]]));

const server = spawn(cli, ["serve", "--data", out + "/city", "--listen", "127.0.0.1:0", "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
const port = await new Promise((resolve, reject) => {
  let text = "";
  server.stdout.on("data", (d) => { text += d; const m = text.match(/127\.0\.0\.1:(\d+)/); if (m) resolve(Number(m[1])); });
  server.on("exit", () => reject(new Error("the server exited: " + text)));
});
const base = "http://127.0.0.1:" + port;
let browser;
try {
  // The charity publishes its report for the demo city's year (its money is dated 2025).
  const year = "2025";
  const res = await fetch(base + "/v1/disclosures", {
    method: "POST",
    headers: { Authorization: "Bearer " + tokens.charity, "Idempotency-Key": "publish-" + year, "Content-Type": "application/json" },
    body: JSON.stringify({ scope: "fund", id: "F-SUNSHINE", period: year }),
  });
  const published = await res.json();
  check(res.status === 201, "publish a disclosure (HTTP " + res.status + ")");
  const index = published.index;
  const report = await (await fetch(base + "/v1/disclosures/" + index)).json();

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });  // a phone
  await page.goto(base + "/");
  check(await page.locator('a[href="/disclosures/' + index + '"]').count() === 1, "the list links the published disclosure");
  await page.screenshot({ path: out + "/list.png", fullPage: true });

  await page.goto(base + "/disclosures/" + index);
  const yuan = (fen) => (fen / 100).toFixed(2);  // display only; the report itself is integer fen
  check((await page.locator("#donations").textContent()) === yuan(report.receipts.donations_fen), "donations match the report");
  check((await page.locator("#closing").textContent()) === yuan(report.closing_fen), "closing balance matches the report");
  check(await page.locator("#spending-purpose tr").count() === Object.keys(report.spending_by_purpose).length, "one row per purpose");
  await page.click("#verify");
  await page.waitForSelector("#verify-result[data-result]");
  const verdict = await page.getAttribute("#verify-result", "data-result");
  check(verdict === "valid", "verify says valid (" + (await page.textContent("#verify-result")) + ")");
  await page.screenshot({ path: out + "/report-zh-valid.png", fullPage: true });

  await page.click("#lang-switch");
  check((await page.getAttribute("html", "data-lang")) === "en", "the language switch shows English");
  check(await page.locator("#verify >> text=Verify in this browser").isVisible(), "the verify button reads in English");
  await page.screenshot({ path: out + "/report-en.png", fullPage: true });

  // The same page, with the report altered on its way to the browser.
  await page.route("**/v1/disclosures/*/evidence", async (route) => {
    const response = await route.fetch();
    const ev = await response.json();
    ev.report = ev.report.replace('"donations_fen":' + report.receipts.donations_fen, '"donations_fen":' + (report.receipts.donations_fen + 100000));
    await route.fulfill({ response, body: JSON.stringify(ev) });
  });
  await page.goto(base + "/disclosures/" + index);
  await page.click("#verify");
  await page.waitForSelector("#verify-result[data-result]");
  const why = await page.textContent("#verify-result");
  check((await page.getAttribute("#verify-result", "data-result")) === "invalid" && why.includes("differs from the one published"),
        "a tampered report is declared invalid, for that reason (" + why + ")");
  await page.screenshot({ path: out + "/report-tampered.png", fullPage: true });
} catch (e) {
  failed++;
  console.log("FAIL " + e.stack);
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
console.log(passed + " passed, " + failed + " failed");
process.exit(failed === 0 && passed > 0 ? 0 : 1);
