// The staff console in headless Chromium against a real `fundledger serve` of a ledger that
// requires signed commands, walked as people would. Each person logs in from their own browser
// profile, which makes their Ed25519 key (WebCrypto, non-extractable) and hands it in; an admin
// whose key was registered with a key file registers the others' keys in the console's account
// page. The clerk uploads a GBK CSV roll with five mistakes and sees all five at once with the
// spreadsheet's row numbers, downloads them, fixes the roll and uploads it; a checker approves.
// Both commands are signed in the browser; a browser profile whose key nobody registered is
// refused; `fundledger verify` passes. Screenshots at desktop and phone width go to the output
// directory. Usage: node console_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import writeExcelFile from "write-excel-file/node";
import { readSheet } from "read-excel-file/node";
import { startConsoleTest, finishConsoleTest, launchChromium, stopServer } from "./serve_demo.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const [cli, out] = process.argv.slice(2);
// The admin signs with the key file the demo wrote (admin.zhao's).
const { base, tokens, server, dir, tally, check, admin } = await startConsoleTest(cli, out, 60, 3, ["--require-signing"]);

// A bound on each wait, generous for a machine busy building (an Argon2id log-in, a signed roll).
const waitMs = 120_000;
await finishConsoleTest(tally, async () => {
  for (const [name, role] of [["admin.sun", "admin"], ["clerk.liu", "maker"], ["checker.zhou", "checker"]]) {
    const r = await admin("POST", "/v1/accounts", { name, role, password: "pass word " + name });
    check(r.status === 201, "the admin creates " + name + " (HTTP " + r.status + ")");
  }
  // Next month's roll for people paid in the newest approved one.
  const approved = (await admin("GET", "/v1/disbursement-batches?status=approved")).json.batches;
  const last = approved.filter((b) => b.fund_id === "F-SUBSIDY").sort((a, b) => a.period.localeCompare(b.period)).pop();
  const lines = (await admin("GET", "/v1/disbursement-batches/" + last.batch_id + "?lines=1")).json.lines.slice(0, 8);
  const [y, m] = last.period.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
  const good = lines.map((l) => [l.beneficiary_id, l.program_id, next.replace("-", "年") + "月", yuan(l.amount_fen)]);
  const bad = good.map((r) => [...r]);
  bad[1][3] = "1,04.5";       // row 3: a malformed amount
  bad[2][0] = "B999999";      // row 4: nobody
  bad[3][1] = "没有的项目";    // row 5: no such program
  bad[4] = [...bad[0]];       // row 6: row 2 again, a duplicate payment
  bad[6][3] = "999999.00";    // row 8: over the program's cap
  const text = (rows) => "受益人编号,项目,发放月份,金额\r\n" + rows.map((r) => r.map((c) => c.includes(",") ? `"${c}"` : c).join(",")).join("\r\n") + "\r\n";
  const gbk = (rows) => execFileSync("iconv", ["-f", "UTF-8", "-t", "GB18030"], { input: text(rows) });
  // The same roll as Excel would save it: amounts as numbers where they are numbers.
  const xlsx = (rows) => writeExcelFile([["受益人编号", "项目", "发放月份", "金额"],
    ...rows.map((r) => [r[0], r[1], r[2], /^\d+(\.\d+)?$/.test(r[3]) ? Number(r[3]) : r[3]])]).toBuffer();
  const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  // axe-core on the page as it is: no serious or critical violation.
  const accessible = async (page, view) => {
    await page.addScriptTag({ content: axeSource });
    const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
    check(found.length === 0, `axe-core finds no serious violation on ${view}` + (found.length ? " (" + found.join("; ") + ")" : ""));
  };
  const screens = async (page, name) => {
    await page.screenshot({ path: `${out}/console-${name}-desktop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${out}/console-${name}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  };

  const browser = await launchChromium();
  // One browser profile (context) per person: each keeps its own IndexedDB, so its own key.
  const profile = async (name) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(waitMs);
    const page = await context.newPage();
    await page.goto(base + "/console");
    // From the keyboard alone: Tab to the name, type, Tab to the password, type, Enter.
    for (let i = 0; i < 5 && await page.evaluate(() => document.activeElement.id) !== "login-name"; i++) await page.keyboard.press("Tab");
    await page.keyboard.type(name);
    await page.keyboard.press("Tab");
    await page.keyboard.type("pass word " + name);
    await page.keyboard.press("Enter");
    const loggedIn = await page.waitForSelector("#work:not([hidden])", { timeout: 20000 }).then(() => true, () => false);
    if (!loggedIn) {  // say what the page shows, then log in by the fields so the rest still runs
      const state = await page.evaluate(() => ({ focus: document.activeElement && document.activeElement.id,
        name: document.getElementById("login-name").value, error: document.getElementById("login-error").textContent, url: location.href }));
      check(false, `${name} logs in from the keyboard (the page shows ${JSON.stringify(state)})`);
      await page.fill("#login-name", name);
      await page.fill("#login-password", "pass word " + name);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#work:not([hidden])");
    }
    await page.waitForSelector("#key-state[data-signer]", { state: "attached" });
    return page;
  };
  const keyIdOf = async (page) => (await page.textContent("#key-state")).match(/[0-9a-f]{16}/)[0];

  {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(waitMs);
    const page = await context.newPage();
    await page.goto(base + "/console");
    await accessible(page, "the log-in page");
    await screens(page, "login");
    await context.close();
  }
  const sun = await profile("admin.sun");
  check((await sun.textContent("h1")) === "资金台账 · 工作台", "the console opens in Chinese");
  check((await sun.textContent("#key-state")).includes("另一位密钥已登记的管理员"), "a first login makes a key and hands it in, waiting; an admin is told who can register it");
  const sunKey = await keyIdOf(sun);
  const enrolling = (await admin("GET", "/v1/accounts")).json.accounts.find((a) => a.name === "admin.sun").enrolling_key;
  check(enrolling && enrolling.key_id === sunKey && !enrolling.registered, "the account page lists the same key id, not registered");
  const reg = await admin("POST", "/v1/actor-keys", { actor: "admin.sun", public_key: enrolling.public_key, document: "任命文件" });
  check(reg.status === 201, "an admin with a key file registers the new admin's browser key (HTTP " + reg.status + " " + JSON.stringify(reg.json) + ")");

  const clerk = await profile("clerk.liu");
  const checker = await profile("checker.zhou");
  const clerkKey = await keyIdOf(clerk), checkerKey = await keyIdOf(checker);
  await sun.reload();
  await sun.waitForSelector("#key-state.ok");
  check((await sun.textContent("#key-state")).includes(sunKey), "after registration the admin's browser signs with its key");
  for (const [name, key] of [["clerk.liu", clerkKey], ["checker.zhou", checkerKey]]) {
    await sun.getByRole("button", { name: `登记密钥 ${name} ${key}` }).click();
    await sun.waitForSelector(`#accounts-result.ok:has-text("${key}")`);
  }
  check((await sun.textContent(`tr[data-account="clerk.liu"]`)).includes(clerkKey + "（已登记）"), "the admin registers the clerk's and the checker's keys in the console");
  await accessible(sun, "the admin's account page");
  await screens(sun, "accounts");

  await clerk.reload();
  await clerk.waitForSelector("#key-state.ok");
  check((await clerk.textContent("#who")).includes("clerk.liu（经办人）"), "the clerk is logged in, the role named in Chinese");
  await clerk.getByLabel("资金").selectOption("F-SUBSIDY");
  await clerk.getByLabel("发放月份").fill(next);
  const fileInput = clerk.getByLabel("名册文件（CSV 或 Excel）");
  const problems = async (file, what) => {
    await clerk.evaluate(() => { document.getElementById("problems").hidden = true; });
    await fileInput.setInputFiles(file);
    await clerk.click("#upload-form button[type=submit]");
    await clerk.waitForSelector("#problems:not([hidden])");
    const rows = await clerk.locator("#problems-table tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
    check(rows.length === 5, `all five problems of ${what} at once (` + JSON.stringify(rows) + ")");
    check(JSON.stringify(rows.map((r) => r[0])) === JSON.stringify(["3", "4", "5", "6", "8"]), "with the spreadsheet's row numbers");
    return rows;
  };
  await problems({ name: "roll.xlsx", mimeType: xlsxType, buffer: await xlsx(bad) }, "an XLSX roll");
  const rows = await problems({ name: "roll.csv", mimeType: "text/csv", buffer: gbk(bad) }, "a GBK CSV roll");
  check(rows.some((r) => r[2] === "未登记的受益人") && rows.some((r) => r[2] === "重复发放"), "parse errors and rule violations together, each kind named in Chinese: " + rows.map((r) => r[2]).join("、"));
  check(rows.every((r) => !/[A-Za-z]/.test(r[1] + r[2] + r[3])), "no English in the Chinese problem table");
  await accessible(clerk, "the clerk's problem table");
  await screens(clerk, "errors");
  const [download] = await Promise.all([clerk.waitForEvent("download"), clerk.click("#problems-download-csv")]);
  const listed = readFileSync(await download.path()).toString();
  check(listed.split("\r\n").filter((l) => l).length === 6, "the problems download as CSV");
  // The spreadsheet to fix: every problem with its row number as a number, the roll's own rows.
  const [sheet] = await Promise.all([clerk.waitForEvent("download"), clerk.click("#problems-download")]);
  check(sheet.suggestedFilename() === "名册问题.xlsx", "the problems download as " + sheet.suggestedFilename());
  const sheetRows = await readSheet(readFileSync(await sheet.path()));
  check(JSON.stringify(sheetRows[0]) === JSON.stringify(["行号", "列", "代码", "问题"]) &&
        JSON.stringify(sheetRows.slice(1).map((r) => r[0])) === JSON.stringify([3, 4, 5, 6, 8]) &&
        JSON.stringify(sheetRows.slice(1).map((r) => r.slice(0, 4))) === JSON.stringify(rows.map((r) => [Number(r[0]), r[1] || null, r[2], r[3]])),
        "the .xlsx holds the table's rows, numbered as the spreadsheet: " + JSON.stringify(sheetRows));

  await fileInput.setInputFiles({ name: "roll-fixed.xlsx", mimeType: xlsxType, buffer: await xlsx(good) });
  const fileField = async () => [await clerk.textContent("#upload-section .file-button"), await clerk.textContent("#upload-section .file-name")];
  check(JSON.stringify(await fileField()) === JSON.stringify(["选择文件", "roll-fixed.xlsx"]), "the file field speaks the page's language and names the chosen file: " + await fileField());
  await clerk.click("#upload-form button[type=submit]");
  await clerk.waitForSelector("#upload-result.ok");
  const batch = (await clerk.textContent("#upload-result")).match(/R\d{6}-[0-9a-f]{12}/)[0];
  check(!!batch, "the fixed roll is prepared, signed in the browser, as " + batch);
  await screens(clerk, "prepared");
  await clerk.click("#lang");
  check((await clerk.textContent("h1")) === "Fund ledger · Staff console", "the English switch");
  check((await fileField())[0] === "Choose a file", "the file field's button switches too: " + await fileField());
  // Its own words (labels, headings, buttons, columns, messages); the ledger's data may be Chinese.
  const english = await clerk.evaluate(() => Array.from(document.querySelectorAll("[data-t], label, th, button, caption, #key-state, #who"))
    .filter((e) => e.checkVisibility()).map((e) => e.textContent).join(" | "));
  check(!/[\u4e00-\u9fff]/.test(english.replace("中文", "")), "the English console's own words are English: " + (english.match(/.{0,20}[\u4e00-\u9fff]+.{0,20}/) || [""])[0]);
  await accessible(clerk, "the English console");
  await clerk.click("#lang");

  // Another profile of the checker: a new key, handed in but not registered, signs nothing the
  // ledger takes.
  const stranger = await profile("checker.zhou");
  check((await keyIdOf(stranger)) !== checkerKey, "another browser profile makes another key");
  await stranger.waitForSelector(`tr[data-batch="${batch}"]`);
  await stranger.getByRole("button", { name: "批准 " + batch }).click();
  await stranger.waitForSelector("#batches-result.error");
  check(/签名/.test(await stranger.textContent("#batches-result")), "its approval is refused for want of a registered key: " + await stranger.textContent("#batches-result"));

  await checker.reload();
  await checker.waitForSelector(`tr[data-batch="${batch}"]`);
  await checker.getByRole("button", { name: "批准 " + batch }).click();
  await checker.waitForSelector("#batches-result.ok");
  check((await checker.textContent("#batches-result")).includes(batch), "the checker approves the batch, signed in the browser");
  await accessible(checker, "the checker's view");
  await screens(checker, "approved");
  const status = (await admin("GET", "/v1/disbursement-batches/" + batch)).json;
  check(status.status === "approved" && status.maker === "clerk.liu", "the ledger holds it approved, made by the clerk");
  // The server stopped, `fundledger verify` checks the ledger it wrote, every signature included.
  await stopServer(server);
  try {
    const verified = execFileSync(cli, ["verify", "--data", dir], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    check(/signatures: \d+ signed commands verified/.test(verified), "fundledger verify passes: " + verified.split("\n").find((l) => l.startsWith("signatures")));
  } catch (e) {
    check(false, "fundledger verify passes: " + (e.stdout || e));
  }
});
