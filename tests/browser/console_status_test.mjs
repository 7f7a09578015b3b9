// The console's status lines follow a switch of language, against a real `fundledger serve` of a
// ledger that does not require signed actions: what a line says after a refused log-in, an
// upload, a bank file's export, a refused and an approved decision, a role's refusal, a search
// that finds nobody, a balance, a verified payment and a new account reads in Chinese, then in
// English (no Chinese left in it) once the page switches, and as before once it switches back;
// the panels' own redraws on a switch do not empty it. The names a lookup wrote in its tables (a
// balance's total, a batch's state) follow the switch too. Screenshots go to the output directory.
// Usage: node console_status_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { startConsoleTest, finishConsoleTest, launchChromium, nextMonthRoll, consolePage } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
const { tally, check, admin, accounts, base } = await startConsoleTest(cli, out, 30, 2, ["--no-signing"]);
const lineMs = 20_000;  // a line shows this long after its request at most
const desktop = { width: 1280, height: 900 };
const chinese = /[\u4e00-\u9fff]/;

await finishConsoleTest(tally, async () => {
  const { last, lines, next, yuan } = await nextMonthRoll(admin, 4);
  const csv = Buffer.from("受益人编号,项目,金额\r\n" +
    lines.map((l) => [l.beneficiary_id, l.program_id, yuan(l.amount_fen)].join(",")).join("\r\n") + "\r\n");

  const browser = await launchChromium();
  const options = { viewport: desktop, acceptDownloads: true };
  const open = () => consolePage(browser, base, check, options);
  const logIn = (role) => consolePage(browser, base, check, options, accounts[role]);
  // A switch of language, and the panels' redraws it starts (their requests) done.
  const language = async (page, lang) => {
    if ((await page.getAttribute("html", "lang")).startsWith(lang)) return;
    await page.click("#lang");
    await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
    await page.waitForLoadState("networkidle");
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  };
  const text = (page, id) => page.evaluate((id) => document.getElementById(id).textContent, id);
  // Line `id` says `zh` (a RegExp) in Chinese; after a switch it says `en` with no Chinese in it;
  // after the switch back, what it said first. `what` names the line in the report.
  const follows = async (page, id, zh, en, what) => {
    await page.waitForFunction(([id, source]) => new RegExp(source).test(document.getElementById(id).textContent),
                               [id, zh.source], { timeout: lineMs }).catch(() => {});
    const before = await text(page, id);
    check(zh.test(before), `${what}: the line reads in Chinese: "${before}"`);
    await language(page, "en");
    const after = await text(page, id);
    check(en.test(after) && !chinese.test(after), `${what}: after the switch it reads in English: "${after}"`);
    await language(page, "zh");
    const back = await text(page, id);
    check(back === before, `${what}: and after the switch back as before: "${back}"`);
  };

  // A refused log-in: the server's message, then the page's own words for its code.
  const visitor = await open();
  await visitor.fill("#login-name", accounts.maker.name);
  await visitor.fill("#login-password", "not-the-password");
  await visitor.click("#login-form button[type=submit]");
  await follows(visitor, "login-error", /[\u4e00-\u9fff]/, /[A-Za-z]{3,}/, "a refused log-in");
  await visitor.context().close();

  // The clerk: a roll prepared; a bank file exported (the bank panel redraws its table on a
  // switch, and must leave the line).
  const clerk = await logIn("maker");
  await clerk.locator("#upload-fund").selectOption("F-SUBSIDY");
  await clerk.fill("#upload-period", next);
  await clerk.locator("#upload-file").setInputFiles({ name: "roll.csv", mimeType: "text/csv", buffer: csv });
  await clerk.click("#upload-form button[type=submit]");
  await follows(clerk, "upload-result", /^已生成批次 R\d{6}-/, /^Prepared batch R\d{6}-.* waiting for another person's approval\.$/, "a prepared roll");
  const batch = (await text(clerk, "upload-result")).match(/R\d{6}-[0-9a-f]+/)[0];
  await clerk.waitForSelector("#bank-table tbody tr button");
  await Promise.all([clerk.waitForEvent("download"), clerk.click("#bank-table tbody tr button")]);
  await follows(clerk, "bank-result", /^已下载批次 .*的代发文件/, /^Downloaded the bank file of batch /, "an exported bank file");
  await clerk.screenshot({ path: `${out}/clerk-zh.png`, fullPage: true });
  await clerk.context().close();

  // The auditor may not decide: the server's refusal inside the page's sentence.
  const auditor = await logIn("auditor");
  await auditor.waitForSelector(`tr[data-batch="${batch}"]`);
  await auditor.getByRole("button", { name: "批准 " + batch }).click({ force: true });  // aria-disabled, still pressable
  await follows(auditor, "batches-result", /^你的角色不能审批批次/, /^Your role may not approve or reject batches/, "a role's refusal");
  // A balance; a payment verified in the browser, with the entries it rests on.
  await auditor.waitForSelector("#balances-fund option", { state: "attached" });
  await auditor.click("#balances-form button[type=submit]");
  await follows(auditor, "balances-result", /^截至第 \d+ 条记录$/, /^as of entry \d+$/, "a balance's line");
  await language(auditor, "en");
  const total = await auditor.textContent("#balances-table tbody tr:last-child td");
  check(total === "Total", "the balances' total row is named in English too: " + total);
  await language(auditor, "zh");
  await auditor.fill("#prove-person", lines[0].beneficiary_id);
  await auditor.fill("#prove-month", last.period);
  await auditor.fill("#prove-program", lines[0].program_id);
  await auditor.click("#prove-form button[type=submit]");
  await follows(auditor, "prove-result", /^验证通过：/, /^Verified: the payment of /, "a verified payment");
  await language(auditor, "en");
  const details = await auditor.$$eval("#prove-details li", (lis) => lis.map((li) => li.textContent));
  check(details.length === 4 && details.every((d) => !chinese.test(d)), "and the entries it rests on: " + JSON.stringify(details));
  await auditor.screenshot({ path: `${out}/auditor-en.png`, fullPage: true });
  await auditor.context().close();

  // The checker: a rejection without a reason refused in the page, then the approval.
  const checker = await logIn("checker");
  await checker.waitForSelector(`tr[data-batch="${batch}"]`);
  await checker.getByRole("button", { name: "退回 " + batch }).click();
  await follows(checker, "batches-result", /^退回须写明原因/, /^A rejection needs a reason/, "a rejection without a reason");
  await checker.getByRole("button", { name: "批准 " + batch }).click();
  await follows(checker, "batches-result", new RegExp(`^批次 ${batch} 已批准。$`), new RegExp(`^Batch ${batch} approved\\.$`), "an approval");
  await checker.context().close();

  // The admin: a search that finds nobody; a new account.
  const boss = await logIn("admin");
  await boss.waitForSelector("#lookup-query");
  await boss.fill("#lookup-query", "无此人名");
  await boss.click("#lookup-form button[type=submit]");
  await follows(boss, "lookup-result", /^没有找到。$/, /^Nobody found\.$/, "a search that finds nobody");
  // The batch history's states.
  await boss.click("#history-form button[type=submit]");
  await boss.waitForSelector("#history-table tbody tr");
  const states = () => boss.$$eval("#history-table tbody tr", (trs) => [...new Set(trs.map((tr) => tr.cells[3].textContent))]);
  const zhStates = await states();
  await language(boss, "en");
  const enStates = await states();
  check(zhStates.every((s) => chinese.test(s)) && enStates.length === zhStates.length && enStates.every((s) => /^[A-Z][a-z]+$/.test(s)),
        `the batch history's states follow the switch: ${zhStates} / ${enStates}`);
  await language(boss, "zh");
  await boss.fill("#account-name", "clerk-status");
  await boss.locator("#account-role").selectOption("maker");
  await boss.fill("#account-password", "a-long-password-1");
  await boss.click("#account-form button[type=submit]");
  await follows(boss, "accounts-result", /^已建立账户 clerk-status。$/, /^Account clerk-status created\.$/, "a new account");
  await language(boss, "en");
  await boss.screenshot({ path: `${out}/admin-en.png`, fullPage: true });
  await boss.context().close();
});
