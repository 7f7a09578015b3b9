// The console's bank panel in headless Chromium against a real `fundledger serve` of the demo, a
// ledger that requires signed commands: a clerk (maker), whose browser key the admin registered,
// downloads an approved roll's bank payment file (names and accounts from the vault; the export
// a command signed in the browser, recorded in the log with the file's SHA-256), uploads a return file with mistakes and
// sees every one at once, fixes it and imports it (the returned lines recorded), and uploading it
// again records nothing twice. Screenshots at desktop and phone width go to the output directory.
// Usage: node console_bank_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { startConsoleTest, finishConsoleTest, launchChromium, registerBrowserKey } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
const { base, tokens, tally, check, admin } = await startConsoleTest(cli, out, 30, 2);

await finishConsoleTest(tally, async () => {
  const r = await admin("POST", "/v1/accounts", { name: "clerk.qian", role: "maker", password: "pass word clerk.qian" });
  check(r.status === 201, "the admin creates clerk.qian (HTTP " + r.status + ")");
  const approved = (await admin("GET", "/v1/disbursement-batches?status=approved")).json.batches;
  const batch = approved.filter((b) => b.fund_id === "F-SUBSIDY").sort((a, b) => a.period.localeCompare(b.period)).pop();
  const detail = (await admin("GET", "/v1/disbursement-batches/" + batch.batch_id + "?lines=1")).json;
  const paid = detail.lines.filter((l) => l.state === "paid").map((l) => l.line_no);

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(base + "/console");
  await page.locator("#login-name").fill("clerk.qian");
  await page.locator("#login-password").fill("pass word clerk.qian");
  await page.keyboard.press("Enter");
  await registerBrowserKey(page, admin, "clerk.qian");
  await page.waitForSelector(`#bank-table tr[data-batch="${batch.batch_id}"]`);
  check(true, "the bank panel lists the approved batch " + batch.batch_id);

  const [download] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "下载代发文件 " + batch.batch_id }).click()]);
  const bytes = readFileSync(await download.path());
  const rows = bytes.toString().split("\r\n").filter((l) => l).map((l) => l.split(","));
  check(rows[0].join(",") === "序号,收款人姓名,收款账号,金额(元),参考号", "the file has the default layout's header");
  check(rows.length === batch.line_count + 1, `one row per line (${rows.length - 1} of ${batch.line_count})`);
  check(rows.slice(1).every((c) => /^\d{8,}$/.test(c[2]) && /^\d+\.\d\d$/.test(c[3]) && c[4].startsWith(batch.batch_id + "-")),
        "each row has an account, an amount in yuan and the line's reference");
  await page.waitForSelector("#bank-result.ok");
  const memoIndex = (await admin("GET", "/v1/funds")).size - 1;
  const memo = (await admin("GET", "/v1/entries/" + memoIndex)).json;
  const sha = createHash("sha256").update(bytes).digest("hex");
  check(memo.event_type === "Memo" && JSON.stringify(memo).includes("sha256=" + sha) && memo.actor === "clerk.qian",
        "the export is recorded: who, and the file's SHA-256");
  check(Buffer.from(memo.raw, "base64").includes("POST /v1/disbursement-batches/" + batch.batch_id + "/bank-file-exports?layout=default"),
        "the export's entry carries the clerk's browser signature of the request");
  check(!JSON.stringify(memo).includes(rows[1][2]), "the record holds no account");
  await page.screenshot({ path: out + "/bank-exported-desktop.png", fullPage: true });

  const byLine = Object.fromEntries(rows.slice(1).map((c) => [Number(c[0]), c]));
  const [a, b, c] = paid.slice(0, 3).map((n) => byLine[n]);
  const returnFile = (lines) => Buffer.from("参考号,收款账号,金额(元),处理结果,失败原因\r\n" + lines.map((l) => l.join(",")).join("\r\n") + "\r\n");
  check(await page.inputValue("#bank-return-batch") === batch.batch_id, "the return form names the batch just exported");
  await page.getByLabel("批次", { exact: true }).selectOption(batch.batch_id);
  const bad = [[a[4], a[2], "1.00", "失败", "户名不符"], [b[4], b[2], b[3], "不明", ""], [c[4], c[2], c[3], "成功", ""]];
  await page.getByLabel("回盘文件（CSV）").setInputFiles({ name: "return.csv", mimeType: "text/csv", buffer: returnFile(bad) });
  await page.click("#bank-return-form button[type=submit]");
  await page.waitForSelector("#bank-problems:not([hidden])");
  const problems = await page.locator("#bank-problems-table tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent)));
  check(JSON.stringify(problems.map((p) => p[0] + ":" + p[1])) === JSON.stringify(["2:金额", "3:状态"]),
        "both bad rows at once, with the file's row numbers (" + JSON.stringify(problems) + ")");
  check(/[\u4e00-\u9fff]/.test(problems[0][3]), "messages in Chinese");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: out + "/bank-return-problems-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  const good = [[a[4], a[2], a[3], "失败", "户名不符"], [b[4], b[2], b[3], "退回", "账户冻结"], [c[4], c[2], c[3], "成功", ""]];
  await page.getByLabel("回盘文件（CSV）").setInputFiles({ name: "return-fixed.csv", mimeType: "text/csv", buffer: returnFile(good) });
  await page.click("#bank-return-form button[type=submit]");
  await page.waitForSelector("#bank-return-result.ok");
  check((await page.textContent("#bank-return-result")).includes("已记录 2 笔退回"), "the return file is imported: two returns recorded");
  const after = (await admin("GET", "/v1/disbursement-batches/" + batch.batch_id + "?lines=1")).json.lines;
  const state = (n) => after.find((l) => l.line_no === n).state;
  check(state(paid[0]) === "returned" && state(paid[1]) === "returned" && state(paid[2]) === "paid", "the ledger holds the returned lines");
  await page.screenshot({ path: out + "/bank-returned-desktop.png", fullPage: true });

  await page.getByLabel("回盘文件（CSV）").setInputFiles({ name: "return-fixed.csv", mimeType: "text/csv", buffer: returnFile(good) });
  await page.click("#bank-return-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#bank-return-result").textContent.includes("已经导入过"));
  check(true, "the same return file again is recognised, not recorded twice");
});
