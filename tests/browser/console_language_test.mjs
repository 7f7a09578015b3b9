// The console as its readers switch language and find tables empty, against a real
// `fundledger serve` of a ledger that does not require signed actions: a clerk's roll problems,
// uploaded in Chinese, are redrawn in English when the page switches (the table, its caption and
// the .xlsx of every problem); an auditor's anomaly findings read in Chinese with no English in
// them, and in English after the switch; a table with no row says so under it, with what would
// fill it, in the page's language; nobody is asked to register a key the ledger does not need;
// at phone width every table wider than its box is a named group Tab reaches and arrow keys
// scroll (axe-core's scrollable-region-focusable). Screenshots go to the output directory.
// Usage: node console_language_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { readSheet } from "read-excel-file/node";
import { startConsoleTest, finishConsoleTest, launchChromium, nextMonthRoll, consolePage } from "./serve_demo.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const [cli, out] = process.argv.slice(2);
const { tally, check, admin, accounts, base } = await startConsoleTest(cli, out, 30, 2, ["--no-signing"]);
const phone = { width: 375, height: 812 }, desktop = { width: 1280, height: 900 };
const chinese = /[\u4e00-\u9fff]/, englishWord = /[A-Za-z]{3,}/;

await finishConsoleTest(tally, async () => {
  const { lines, next, yuan } = await nextMonthRoll(admin, 4);
  const rows = lines.map((l) => [l.beneficiary_id, l.program_id, yuan(l.amount_fen)]);
  rows[0][2] = "12,3.4";   // row 2: a malformed amount
  rows[2][0] = "B999999";  // row 4: nobody
  const csv = Buffer.from("受益人编号,项目,金额\r\n" + rows.map((r) => r.join(",")).join("\r\n") + "\r\n");

  const browser = await launchChromium();
  const logIn = (role) => consolePage(browser, base, check, { viewport: desktop, acceptDownloads: true }, accounts[role]);
  const language = async (page, lang) => {
    if ((await page.getAttribute("html", "lang")).startsWith(lang)) return;
    await page.click("#lang");
    await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
  };
  const column = (page, table, i) => page.$$eval(`#${table} tbody tr`, (trs, i) => trs.map((tr) => tr.cells[i].textContent), i);

  // The clerk: the lookup table empty until a search, said so; the roll's problems in Chinese.
  const clerk = await logIn("maker");
  check(await clerk.locator("#key-state").isHidden(), "an unsigned ledger asks nobody to register a key: " + await clerk.textContent("#key-state"));
  // The line under an empty table once it shows with `expected` in it: the sections are built
  // and shown by the role's own hooks after the login answers, so the line comes a moment later.
  // Gives up after a bounded wait and returns what shows then ("" for none).
  const note = async (page, id, expected = /./) => {
    await page.waitForFunction(([id, source]) => {
      const p = document.getElementById(id + "-empty");
      return p && p.checkVisibility() && new RegExp(source).test(p.textContent);
    }, [id, expected.source], { timeout: 10_000 }).catch(() => {});
    return page.evaluate((id) => {
      const p = document.getElementById(id + "-empty");
      return p && p.checkVisibility() ? p.textContent : "";
    }, id);
  };
  const lookupNote = await note(clerk, "lookup-table", /在上方输入身份证号或姓名/);
  check(lookupNote.includes("在上方输入身份证号或姓名"), "the empty lookup table says what fills it: " + lookupNote);
  const historyNote = await note(clerk, "history-table", /查询/);
  check(historyNote.includes("查询"), "so does the empty batch history: " + historyNote);
  await clerk.waitForSelector("#programs-table tbody tr");
  check(await clerk.evaluate(() => !document.getElementById("programs-table-empty").checkVisibility()), "a table with rows says nothing of the kind");
  const batchesNote = await note(clerk, "batches-table", /在上方上传名册/);
  check(batchesNote.includes("在上方上传名册"), "no batch waits: a clerk is told where one comes from: " + batchesNote);
  await clerk.locator("#upload-fund").selectOption("F-SUBSIDY");
  await clerk.fill("#upload-period", next);
  await clerk.locator("#upload-file").setInputFiles({ name: "roll.csv", mimeType: "text/csv", buffer: csv });
  await clerk.click("#upload-form button[type=submit]");
  await clerk.waitForSelector("#problems:not([hidden])");
  const zhProblems = await column(clerk, "problems-table", 3);
  check(zhProblems.length === 2 && zhProblems.every((m) => chinese.test(m)), "the problems read in Chinese: " + JSON.stringify(zhProblems));
  await clerk.screenshot({ path: `${out}/problems-zh.png`, fullPage: true });

  // Switched to English: the same problems, redrawn in English, nothing sent again.
  let posts = 0;
  clerk.on("request", (r) => { if (r.method() === "POST") posts++; });
  await language(clerk, "en");
  const enProblems = await column(clerk, "problems-table", 3);
  const caption = await clerk.textContent("#problems-caption");
  check(enProblems.length === 2 && enProblems.every((m) => !chinese.test(m) && englishWord.test(m)), "after the switch the problems read in English: " + JSON.stringify(enProblems));
  check(!chinese.test(caption) && caption.includes("nothing was posted"), "and so does their caption: " + caption);
  check(posts === 0, "without sending the roll again");
  const englishNote = await note(clerk, "lookup-table", /^Nobody listed/);
  check(englishNote.startsWith("Nobody listed"), "the empty table's line is in English too: " + englishNote);
  const [download] = await Promise.all([clerk.waitForEvent("download"), clerk.click("#problems-download")]);
  const sheet = await readSheet(await download.path());
  check(download.suggestedFilename() === "roll-problems.xlsx" && sheet[0][0] === "Row" && sheet.slice(1).every((r) => !chinese.test(String(r[3]))),
        "the .xlsx of every problem is in English: " + download.suggestedFilename() + " " + JSON.stringify(sheet));
  await clerk.screenshot({ path: `${out}/problems-en.png`, fullPage: true });
  await clerk.context().close();

  // The auditor: findings in Chinese with no English in their details; in English after a switch.
  const auditor = await logIn("auditor");
  await auditor.waitForSelector("#auditor-section:not([hidden])");
  const approverNote = await note(auditor, "batches-table", /经办人上传的名册/);
  check(approverNote.includes("经办人上传的名册"), "and one who approves, whose rolls come there: " + approverNote);
  const findingsNote = await note(auditor, "anomalies-table", /运行检查/);
  check(findingsNote.includes("运行检查"), "the findings table says how to fill it: " + findingsNote);
  await auditor.click("#anomalies-run");
  await auditor.waitForFunction(() => /\d/.test(document.getElementById("anomalies-result").textContent));
  const zhDetails = await column(auditor, "anomalies-table", 2);
  const english = zhDetails.filter((d) => englishWord.test(d) || !chinese.test(d));
  check(zhDetails.length > 0 && english.length === 0, `${zhDetails.length} findings, each detail in Chinese` + (english.length ? ": not " + JSON.stringify(english.slice(0, 3)) : ""));
  await auditor.screenshot({ path: `${out}/findings-zh.png`, fullPage: true });
  await language(auditor, "en");
  const enDetails = await column(auditor, "anomalies-table", 2);
  check(enDetails.length === zhDetails.length && enDetails.every((d) => !chinese.test(d)), "after the switch every detail is in English: " + enDetails[0]);

  // At phone width every table wider than its box is a named region in the Tab order.
  await auditor.setViewportSize(phone);
  await auditor.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));  // the boxes refit
  const boxes = await auditor.evaluate(() => Array.from(document.querySelectorAll(".table-scroll"))
    .filter((b) => b.checkVisibility() && b.scrollWidth > b.clientWidth)
    .map((b) => ({ table: b.querySelector("table").id, tabIndex: b.tabIndex, role: b.getAttribute("role"),
                   name: (document.getElementById(b.getAttribute("aria-labelledby")) || {}).textContent || "" })));
  const unreachable = boxes.filter((b) => b.tabIndex !== 0 || b.role !== "group" || !b.name);
  check(boxes.length > 0 && unreachable.length === 0, `${boxes.length} wide tables, each a named group Tab reaches` + (unreachable.length ? ": not " + JSON.stringify(unreachable) : ""));
  const wide = boxes.find((b) => b.table === "anomalies-table") || boxes[0];
  await auditor.evaluate((id) => document.getElementById(id).parentElement.focus(), wide.table);
  for (let i = 0; i < 5; i++) await auditor.keyboard.press("ArrowRight");
  // Keyboard scrolling is animated: wait for it to move, not for a time.
  const scrolled = await auditor.waitForFunction((id) => document.getElementById(id).parentElement.scrollLeft, wide.table, { timeout: 10000 })
    .then((h) => h.jsonValue(), () => 0);
  check(scrolled > 0, `arrow keys scroll ${wide.table} in its box (${scrolled} px)`);
  await auditor.addScriptTag({ content: axeSource });
  const found = await auditor.evaluate(async () => (await window.axe.run(document, { runOnly: ["scrollable-region-focusable", "aria-allowed-role", "landmark-unique"] })).violations
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
  check(found.length === 0, "axe-core finds every scroll box reachable" + (found.length ? " (" + found.join("; ") + ")" : ""));
  await auditor.screenshot({ path: `${out}/findings-en-phone.png`, fullPage: true });
  await auditor.context().close();

  // The admin of an unsigned ledger is not asked to register their own browser's key either.
  const boss = await logIn("admin");
  check(await boss.locator("#key-state").isHidden(), "nor is the admin: " + await boss.textContent("#key-state"));
  await boss.context().close();
});
