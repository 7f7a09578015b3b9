// Lookups and the auditor's corner in headless Chromium against a real `fundledger serve`: a
// clerk finds a person by ID number and by name (masked), sees their payments; an auditor proves
// one payment, the browser verifying the checkpoint's signature and the inclusion proofs itself,
// and a tampered proof fails. Screenshots at desktop and phone width go to the output directory.
// Usage: node console_lookup_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { startConsoleTest, finishConsoleTest, launchChromium } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
const { base, tokens, tally, check, admin, as } = await startConsoleTest(cli, out, 30, 2);

async function logIn(page, name) {
  await page.goto(base + "/console");
  await page.locator("#login-name").fill(name);
  await page.locator("#login-password").fill("pass word " + name);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#work:not([hidden])");
}

// A valid resident ID number (GB 11643 check character) for a made-up person.
function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, d, i) => a + Number(d) * weights[i], 0);
  return first17 + "10X98765432"[sum % 11];
}
await finishConsoleTest(tally, async () => {
  for (const [name, role] of [["clerk.liu", "maker"], ["audit.qian", "auditor"]]) {
    const r = await admin("POST", "/v1/accounts", { name, role, password: "pass word " + name });
    check(r.status === 201, "the admin creates " + name + " (HTTP " + r.status + ")");
  }
  // A person whose papers the clerk holds: registered, enrolled, paid one month and approved.
  const approved = (await admin("GET", "/v1/disbursement-batches?status=approved")).json.batches;
  const last = approved.filter((b) => b.fund_id === "F-SUBSIDY").sort((a, b) => a.period.localeCompare(b.period)).pop();
  const sample = (await admin("GET", `/v1/disbursement-batches/${last.batch_id}?lines=1`)).json.lines.find((l) => l.program_id === "dibao");
  const [y, m] = last.period.split("-").map(Number);
  const month = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  const number = idNumber("32010219560704012"), name = "欧阳明华", person = "B-LOOKUP";
  const maker = await as("maker"), checker = await as("checker");
  let r = await maker("POST", "/v1/beneficiaries", { beneficiary_id: person, household_id: "H-LOOKUP", region_code: "320102",
    birth_month: 195607, registered_date: 20250101, person: { name, id_number: number, bank_account: "6217000099990001", phone: "13900009999" } });
  check(r.status === 201, "the person is registered (HTTP " + r.status + " " + JSON.stringify(r.json) + ")");
  r = await maker("POST", "/v1/enrollments", { beneficiary_id: person, program_id: "dibao", monthly_amount_fen: sample.amount_fen,
    from_month: Number(last.period.replace("-", "")), to_month: 0, approval_doc: "lookup-test" });
  check(r.status === 201, "and enrolled in dibao (HTTP " + r.status + " " + JSON.stringify(r.json) + ")");
  const yuan = `${Math.floor(sample.amount_fen / 100)}.${String(sample.amount_fen % 100).padStart(2, "0")}`;
  r = await maker("POST", `/v1/disbursement-batches?fund_id=F-SUBSIDY&period=${month}&batch_id=R-LOOKUP`,
    `beneficiary_id,program_id,amount\n${person},dibao,${yuan}\n`, "text/csv");
  check(r.status === 201, "a roll pays them for " + month + " (HTTP " + r.status + " " + JSON.stringify(r.json) + ")");
  r = await checker("POST", "/v1/disbursement-batches/R-LOOKUP/approve", { document: "lookup-test" });
  check(r.status === 201, "and is approved (HTTP " + r.status + ")");

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.log("page error: " + e.message));
  await logIn(page, "clerk.liu");

  // By ID number: the person, masked, with their enrollments and payments.
  await page.getByLabel("身份证号或姓名（至少两个字）").fill(number);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`#lookup-table tr[data-person="${person}"]`);
  const shown = await page.locator(`#lookup-table tr[data-person="${person}"]`).evaluate((tr) => Array.from(tr.cells, (c) => c.textContent));
  check(shown[1] === "欧*华", "found by ID number, the name masked (" + shown[1] + ")");
  check(shown[2] === number.slice(0, 4) + "**********" + number.slice(14), "and the number masked (" + shown[2] + ")");
  check(!(await page.content()).includes(number), "the full number is not on the page");
  await page.waitForSelector("#person-payments tbody tr");
  const payments = await page.locator("#person-payments tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  check(payments.some((p) => p[0] === month && p[1] === "dibao" && p[2] === yuan && p[3] === "R-LOOKUP"), "their payment for " + month + " is listed (" + JSON.stringify(payments) + ")");
  check((await page.textContent("#person-enrollments")).includes("dibao"), "with their enrollment");
  await page.screenshot({ path: out + "/lookup-person-desktop.png", fullPage: true });

  // By name.
  await page.getByLabel("身份证号或姓名（至少两个字）").fill("明华");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`#lookup-table tr[data-person="${person}"]`);
  check(!(await page.content()).includes(name), "found by part of the name, never shown in full");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: out + "/lookup-person-phone.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Balances and batch history.
  await page.selectOption("#balances-fund", "F-SUBSIDY");
  await page.click("#balances-form button[type=submit]");
  await page.waitForSelector("#balances-table tbody tr");
  check((await page.textContent("#balances-table")).includes("合计"), "the fund's balance now");
  // The demo's entries are stamped today: as of the end of today in China Standard Time.
  await page.getByLabel("截至日期（留空为当前）").fill(new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10));
  await page.click("#balances-form button[type=submit]");
  await page.waitForFunction(() => /截至第 \d+ 条记录/.test(document.getElementById("balances-result").textContent));
  check(true, "and as of a date");
  await page.selectOption("#history-status", "approved");
  await page.click("#history-form button[type=submit]");
  await page.waitForSelector("#history-table tbody tr");
  check((await page.textContent("#history-table")).includes("R-LOOKUP"), "the batch history lists the approved roll");
  await page.click("#logout");
  await page.waitForSelector("#login-section:not([hidden])");

  // The auditor proves the payment in the browser.
  await logIn(page, "audit.qian");
  check(await page.locator("#lookup-section").isHidden(), "an auditor cannot look people up");
  await page.waitForFunction(() => (document.querySelector("#access-table")?.textContent || "").includes("clerk.liu"), null, { timeout: 30000 }).catch(() => {});
  check((await page.textContent("#access-table")).includes("clerk.liu"), "but sees who searched (the search log)");
  await page.fill("#prove-person", person);
  await page.fill("#prove-month", month);
  await page.click("#prove-form button[type=submit]");
  await page.waitForSelector("#prove-result.ok, #prove-result.error");
  const verdict = await page.textContent("#prove-result");
  check((await page.getAttribute("#prove-result", "class")) === "ok", "the browser verifies the payment (" + verdict + ")");
  check(verdict.includes(yuan) && verdict.includes(month), "for the amount and month paid");
  await page.screenshot({ path: out + "/lookup-proof-desktop.png", fullPage: true });

  // A proof altered on the way fails in the browser.
  await page.route("**/v1/payment-proofs?*", async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.payment.amount_fen += 100;
    body.payment.amount = "tampered";
    await route.fulfill({ response: res, json: body });
  });
  await page.click("#prove-form button[type=submit]");
  await page.waitForSelector("#prove-result.error");
  check(true, "a proof whose line was altered fails (" + (await page.textContent("#prove-result")) + ")");
  await page.unroute("**/v1/payment-proofs?*");

  await page.click("#anomalies-run");
  await page.waitForFunction(() => /发现 \d+ 项/.test(document.getElementById("anomalies-result").textContent));
  check(true, "the anomaly checks run (" + (await page.textContent("#anomalies-result")) + ")");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#bundle-get")]);
  check(/^audit-bundle-\d+\.tar$/.test(download.suggestedFilename()), "the audit bundle downloads (" + download.suggestedFilename() + ")");
  const missing = await (await fetch(base + `/v1/payment-proofs?beneficiary_id=${person}&period=2031-01`, { headers: { Authorization: "Bearer " + tokens.auditor } })).json();
  check(missing.error && missing.error.message.includes("2031-01"), "a missing payment is named (" + missing.error.message + ")");
});
