// The staff console in headless Chromium against a real `fundledger serve`, walked as people
// would: a clerk logs in (Chinese by default), uploads a roll with three mistakes and sees all
// three at once with the spreadsheet's row numbers, downloads them as CSV, fixes the roll and
// uploads it; a checker logs in as another person and approves. Screenshots at desktop and phone
// width go to the output directory. Usage: node console_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { mkdirSync, rmSync, readFileSync } from "node:fs";
import { serveDemoCity, launchChromium } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) { passed++; console.log("ok   " + what); } else { failed++; console.log("FAIL " + what); } };

const { base, tokens, server } = await serveDemoCity(cli, out + "/city");
const admin = async (method, path, body) => {
  const res = await fetch(base + path, {
    method, headers: { Authorization: "Bearer " + tokens.admin, "Idempotency-Key": "k" + Math.random(), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
};

let browser;
try {
  for (const [name, role] of [["clerk.liu", "maker"], ["checker.zhou", "checker"]]) {
    const r = await admin("POST", "/v1/accounts", { name, role, password: "pass word " + name });
    check(r.status === 201, "the admin creates " + name + " (HTTP " + r.status + ")");
  }
  // Next month's roll for people paid in the newest approved one.
  const approved = (await admin("GET", "/v1/disbursement-batches?status=approved")).json.batches;
  const last = approved.filter((b) => b.fund_id === "F-SUBSIDY").sort((a, b) => a.period.localeCompare(b.period)).pop();
  const lines = (await admin("GET", "/v1/disbursement-batches/" + last.batch_id + "?lines=1")).json.lines.slice(0, 6);
  const [y, m] = last.period.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
  const good = lines.map((l) => [l.beneficiary_id, l.program_id, next.replace("-", "年") + "月", yuan(l.amount_fen)]);
  const bad = good.map((r) => [...r]);
  bad[1][3] = "1,04.5";   // row 3: a malformed amount
  bad[2][0] = "B999999";  // row 4: nobody
  bad[4] = [...bad[0]];   // row 6: row 2 again, a duplicate payment
  const csv = (rows) => Buffer.from("\ufeff受益人编号,项目,发放月份,金额\r\n" + rows.map((r) => r.map((c) => c.includes(",") ? `"${c}"` : c).join(",")).join("\r\n") + "\r\n");

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(base + "/console");
  check((await page.textContent("h1")) === "资金台账 · 工作台", "the console opens in Chinese");
  await page.getByLabel("用户名").fill("clerk.liu");
  await page.getByLabel("密码").fill("pass word clerk.liu");
  await page.keyboard.press("Enter");  // the form submits from the keyboard
  await page.waitForSelector("#work:not([hidden])");
  check((await page.textContent("#who")).includes("clerk.liu"), "the clerk is logged in");

  await page.getByLabel("资金").selectOption("F-SUBSIDY");
  await page.getByLabel("发放月份").fill(next);
  await page.getByLabel("名册文件（CSV）").setInputFiles({ name: "roll.csv", mimeType: "text/csv", buffer: csv(bad) });
  await page.click("#upload-form button[type=submit]");
  await page.waitForSelector("#problems:not([hidden])");
  const rows = await page.locator("#problems-table tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  check(rows.length === 3, "all three problems at once (" + JSON.stringify(rows) + ")");
  check(JSON.stringify(rows.map((r) => r[0])) === JSON.stringify(["3", "4", "6"]), "with the spreadsheet's row numbers");
  check(rows.some((r) => r[2] === "unknown_beneficiary") && rows.some((r) => r[2] === "duplicate_payment"), "parse errors and rule violations together");
  check(/[\u4e00-\u9fff]/.test(rows[0][3]), "messages in Chinese");
  await page.screenshot({ path: out + "/console-errors-desktop.png", fullPage: true });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#problems-download")]);
  const listed = readFileSync(await download.path()).toString();
  check(listed.split("\r\n").filter((l) => l).length === 4, "the problems download as CSV");

  await page.getByLabel("名册文件（CSV）").setInputFiles({ name: "roll-fixed.csv", mimeType: "text/csv", buffer: csv(good) });
  await page.click("#upload-form button[type=submit]");
  await page.waitForSelector("#upload-result.ok");
  const batch = (await page.textContent("#upload-result")).match(/R\d{6}-[0-9a-f]{12}/)[0];
  check(!!batch, "the fixed roll is prepared as " + batch);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: out + "/console-prepared-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click("#lang");
  check((await page.textContent("h1")) === "Fund ledger · Staff console", "the English switch");
  await page.click("#lang");
  await page.click("#logout");
  await page.waitForSelector("#login-section:not([hidden])");

  await page.getByLabel("用户名").fill("checker.zhou");
  await page.getByLabel("密码").fill("pass word checker.zhou");
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector(`tr[data-batch="${batch}"]`);
  await page.getByRole("button", { name: "批准 " + batch }).click();
  await page.waitForSelector("#batches-result.ok");
  check((await page.textContent("#batches-result")).includes(batch), "the checker approves the batch");
  await page.screenshot({ path: out + "/console-approved-desktop.png", fullPage: true });
  const status = (await admin("GET", "/v1/disbursement-batches/" + batch)).json;
  check(status.status === "approved" && status.maker === "clerk.liu", "the ledger holds it approved, made by the clerk");
} catch (e) {
  failed++;
  console.log("FAIL " + (e && e.stack || e));
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
