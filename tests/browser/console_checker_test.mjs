// The checker's view of the staff console in headless Chromium against a real `fundledger serve`:
// a clerk uploads next month's roll (one amount changed, people dropped) and is told why they
// cannot approve it (trying anyway shows the refusal in Chinese); a checker reviews it (totals by
// program and region, the change from last month with the lines), is refused a rejection
// without a reason, approves it and opens the printable approval sheet (审批表). Screenshots at
// desktop and phone width go to the output directory.
// Usage: node console_checker_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { startConsoleTest, finishConsoleTest, launchChromium, registerBrowserKey } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
const { base, tally, check, admin } = await startConsoleTest(cli, out);

async function logIn(page, name) {
  await page.locator("#login-name").fill(name);
  await page.locator("#login-password").fill("pass word " + name);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#work:not([hidden])");
  await registerBrowserKey(page, admin, name);  // the demo requires signed commands
}

await finishConsoleTest(tally, async () => {
  for (const [name, role] of [["clerk.liu", "maker"], ["checker.zhou", "checker"]]) {
    const r = await admin("POST", "/v1/accounts", { name, role, password: "pass word " + name });
    check(r.status === 201, "the admin creates " + name + " (HTTP " + r.status + ")");
  }
  // Next month's roll: six people of the newest approved month, one of them paid 100 yuan less.
  const approved = (await admin("GET", "/v1/disbursement-batches?status=approved&fund_id=F-SUBSIDY")).json.batches;
  const lastPeriod = approved.map((b) => b.period).sort().pop();
  const previous = [];
  for (const b of approved.filter((b) => b.period === lastPeriod))
    previous.push(...(await admin("GET", "/v1/disbursement-batches/" + b.batch_id + "?lines=1")).json.lines);
  const kept = previous.filter((l) => l.amount_fen > 10000).slice(0, 6);
  const [y, m] = lastPeriod.split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  const yuan = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
  const changed = { ...kept[1], amount_fen: kept[1].amount_fen - 10000 };
  const rows = kept.map((l, i) => (i === 1 ? changed : l)).map((l) => [l.beneficiary_id, l.program_id, next, yuan(l.amount_fen)]);
  const csv = Buffer.from("受益人编号,项目,发放月份,金额\r\n" + rows.map((r) => r.join(",")).join("\r\n") + "\r\n");
  const keptPeople = new Set(kept.map((l) => l.beneficiary_id));
  const dropped = new Set(previous.map((l) => l.beneficiary_id).filter((p) => !keptPeople.has(p))).size;

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(base + "/console");
  await logIn(page, "clerk.liu");
  await page.locator("#upload-fund").selectOption("F-SUBSIDY");
  await page.locator("#upload-period").fill(next);
  await page.locator("#upload-file").setInputFiles({ name: "roll.csv", mimeType: "text/csv", buffer: csv });
  await page.click("#upload-form button[type=submit]");
  await page.waitForSelector("#upload-result.ok");
  const batch = (await page.textContent("#upload-result")).match(/R\d{6}-[0-9a-f]{12}/)[0];
  check(!!batch, "the clerk prepares " + batch);

  // The maker's own batch: the buttons say why, and trying anyway shows the refusal in Chinese.
  await page.waitForSelector(`#why-${batch}`);
  check((await page.textContent(`#why-${batch}`)).includes("你是该批次的制单人"), "the maker is told why they cannot approve their own batch");
  const approveOwn = page.getByRole("button", { name: "批准 " + batch });
  check((await approveOwn.getAttribute("aria-disabled")) === "true", "the maker's approve button is marked unavailable");
  await approveOwn.focus();  // aria-disabled: still reachable, so the refusal can be read
  await page.keyboard.press("Enter");
  await page.waitForSelector("#batches-result.error");
  check(/不能审批/.test(await page.textContent("#batches-result")), "trying anyway shows the server's refusal in Chinese");
  await page.screenshot({ path: out + "/checker-maker-desktop.png", fullPage: true });
  await page.click("#logout");
  await page.waitForSelector("#login-section:not([hidden])");

  await logIn(page, "checker.zhou");
  await page.waitForSelector(`tr[data-batch="${batch}"]`);
  // The maker's rows stay on the page until the checker's list has loaded in their place.
  await page.locator(`#why-${batch}`).waitFor({ state: "detached", timeout: 30000 }).catch(() => {});
  check(await page.locator(`#why-${batch}`).count() === 0, "the checker may decide it");
  await page.getByRole("button", { name: "审阅 " + batch }).click();
  await page.waitForSelector("#review:not([hidden]) #review-title");
  const total = (await admin("GET", "/v1/disbursement-batches/" + batch)).json.total;
  check((await page.textContent("#review-summary")).includes(total), "the review shows the batch's total " + total);
  const cells = async (id) => page.locator(`#${id} tbody tr`).evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  const programs = await cells("review-programs");
  check(programs.reduce((n, r) => n + Number(r[1]), 0) === kept.length, "totals by program cover every line (" + JSON.stringify(programs) + ")");
  const regions = await cells("review-regions");
  check(regions.length > 0 && regions.every((r) => /区|\d{6}/.test(r[0])), "totals by region, named (" + JSON.stringify(regions) + ")");
  const month = await page.textContent("#review-month");
  check(month.includes(`减少 ${dropped} 人`) && month.includes(lastPeriod), "the change from last month: " + month);
  // Many people dropped: their list starts collapsed, and opens from the keyboard.
  const droppedBox = page.locator("#review-dropped-box");
  check(await droppedBox.evaluate((d) => d.tagName === "DETAILS" && !d.open && d.querySelectorAll("tbody tr").length > 10),
        "the long list of lines dropped starts collapsed");
  await page.focus("#review-dropped-box summary");
  await page.keyboard.press("Enter");
  check(await droppedBox.evaluate((d) => d.open), "and opens from the keyboard");
  check(await page.locator("#review-changed-box").evaluate((d) => d.open), "a short list starts open");
  const changedRows = await cells("review-changed");
  check(changedRows.length === 1 && changedRows[0][0] === changed.beneficiary_id &&
        changedRows[0][3] === yuan(kept[1].amount_fen) && changedRows[0][4] === yuan(changed.amount_fen),
        "the changed amount with last month's beside it (" + JSON.stringify(changedRows) + ")");
  check((await cells("review-sample")).length === kept.length, "a sample of lines");
  await page.screenshot({ path: out + "/checker-review-desktop.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: out + "/checker-review-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole("button", { name: "退回 " + batch }).click();
  await page.waitForSelector("#batches-result.error");
  check((await page.textContent("#batches-result")).includes("退回须写明原因"), "a rejection without a reason is refused");
  await page.getByRole("button", { name: "批准 " + batch }).click();
  await page.waitForSelector("#batches-result.ok");
  check((await page.textContent("#batches-result")).includes(batch), "the checker approves the batch");
  const status = (await admin("GET", "/v1/disbursement-batches/" + batch)).json;
  check(status.status === "approved" && status.maker === "clerk.liu", "the ledger holds it approved, made by the clerk");

  const [sheet] = await Promise.all([context.waitForEvent("page"), page.click("#review-sheet")]);
  await sheet.waitForLoadState();
  const text = await sheet.textContent("body");
  check((await sheet.textContent("h1")) === "发放名册审批表", "the approval sheet opens");
  check(text.includes(batch) && text.includes(total) && text.includes("clerk.liu") && text.includes("checker.zhou") &&
        text.includes("复核人（签字）"), "with the batch, its total, maker, checker and signature lines");
  await sheet.screenshot({ path: out + "/checker-sheet-desktop.png", fullPage: true });
  await sheet.emulateMedia({ media: "print" });
  await sheet.screenshot({ path: out + "/checker-sheet-print.png", fullPage: true });
});
