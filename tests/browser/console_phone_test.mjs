// The staff console at a phone's width (375 px) and a desktop's, in Chinese and in English, as
// each role sees it (the clerk with a rejected roll's problems, the checker with a batch under
// review, the auditor with anomaly findings (each check named in the page's language), the admin with the staff accounts): no view is wider
// than the screen (a wide table scrolls in its own box, its key column still in sight), at the
// narrowest phones' 360 px a code in a table (a check's id, a batch id) wraps only after its
// separators, never inside a word, and no cell holding one is wider than the screen, and the
// date and month fields speak the page's language: a hint in it, dates written as people here
// write them (2026年3月5日) taken, and a value that is no date refused beside its field in the
// page's language, before anything is sent. Screenshots of every view go to the output directory.
// Usage: node console_phone_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { startConsoleTest, finishConsoleTest, launchChromium, nextMonthRoll } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
// An unsigned demo: this test is about layout and fields, not keys (console_test signs).
const { base, tally, check, admin, accounts } = await startConsoleTest(cli, out, 30, 2, ["--no-signing"]);
const waitMs = 60_000;
const phone = { width: 375, height: 812 }, desktop = { width: 1280, height: 900 };
const narrowPhone = { width: 360, height: 800 };  // the narrowest phones in use

await finishConsoleTest(tally, async () => {
  // Next month's roll for people paid in the newest approved month, and one with two mistakes.
  const { lines, next, yuan } = await nextMonthRoll(admin, 6);
  const y = Number(next.slice(0, 4));
  const good = lines.map((l) => [l.beneficiary_id, l.program_id, yuan(l.amount_fen)]);
  const bad = good.map((row) => [...row]);
  bad[0][2] = "12,3.4";   // row 2: a malformed amount
  bad[2][0] = "B999999";  // row 4: nobody
  const csv = (rows) => Buffer.from("受益人编号,项目,金额\r\n" + rows.map((row) => row.join(",")).join("\r\n") + "\r\n");

  const browser = await launchChromium();
  // A browser whose own language is English, as many offices' are: the page's language must win.
  const logIn = async (role) => {
    const context = await browser.newContext({ viewport: desktop, locale: "en-US" });
    context.setDefaultTimeout(waitMs);
    const page = await context.newPage();
    await page.goto(base + "/console");
    await page.fill("#login-name", accounts[role].name);
    await page.fill("#login-password", accounts[role].password);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#work:not([hidden])");
    return page;
  };
  const language = async (page, lang) => {
    if ((await page.getAttribute("html", "lang")).startsWith(lang)) return;
    await page.click("#lang");
    await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang);
  };

  // At phone width: the page no wider than the screen, and each table wider than its box keeps
  // its first column in the box when scrolled to its far end.
  const fitsThePhone = async (page, view) => {
    const width = await page.evaluate(() => ({ page: document.scrollingElement.scrollWidth, screen: window.innerWidth }));
    check(width.page <= width.screen, `${view} at ${width.screen} px: the page is ${width.page} px wide, the screen ${width.screen}`);
    const lost = await page.evaluate(() => {
      const out = [];
      for (const box of document.querySelectorAll(".table-scroll")) {
        const first = box.querySelector("tbody td");
        if (!box.checkVisibility() || !first || box.scrollWidth <= box.clientWidth) continue;
        box.scrollLeft = box.scrollWidth;
        const b = box.getBoundingClientRect(), c = first.getBoundingClientRect();
        if (c.left < b.left - 1 || c.right > b.right + 1) out.push(box.querySelector("table").id || first.textContent);
        box.scrollLeft = 0;
      }
      return out;
    });
    check(lost.length === 0, `${view}: every wide table keeps its key column in sight` + (lost.length ? " (not " + lost.join(", ") + ")" : ""));
  };
  // At the narrowest phone's width, every table cell holding a code (a check's or rule's id, a
  // batch id, a bucket: letters and digits joined by _ . - or /, a letter among them) is no wider
  // than the screen, and each line break inside a code, found from its characters' boxes
  // (Range.getClientRects), comes after one of its separators, never inside a word; a short cell
  // (white-space: nowrap) is one line. Answers how many codes wrapped at a separator, so that a
  // view in which none wraps is seen as such.
  const codesWrapAtSeparators = async (page, view) => {
    const found = await page.evaluate(() => {
      const code = /[A-Za-z0-9]+(?:[_.\-/][A-Za-z0-9]+)+/g;
      const newLinePx = 4;  // a character this much below the one before it starts a new line
      const out = { wide: [], inside: [], wrapped: 0, broken: [] };
      for (const td of document.querySelectorAll("main td")) {
        const text = td.textContent;
        if (!td.checkVisibility() || !text) continue;
        const tops = [];  // each character's top, in the order of textContent
        const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let node = walk.nextNode(); node; node = walk.nextNode()) {
          for (let i = 0; i < node.data.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const box = range.getClientRects()[0];
            tops.push(box ? box.top : null);
          }
        }
        const newLine = (i) => tops[i] !== null && tops[i - 1] !== null && tops[i] > tops[i - 1] + newLinePx;
        // A cell that may not wrap (a short one: an id, a month, an amount) is one line.
        if (getComputedStyle(td).whiteSpace === "nowrap" && tops.some((_, i) => i > 0 && newLine(i))) out.broken.push(text);
        const codes = [...text.matchAll(code)].filter((m) => /[A-Za-z]/.test(m[0]));
        if (!codes.length) continue;
        if (td.getBoundingClientRect().width > window.innerWidth) out.wide.push(text);
        for (const m of codes) {
          for (let i = m.index + 1; i < m.index + m[0].length; i++) {
            if (!newLine(i)) continue;
            if (/[_.\-/]/.test(text[i - 1])) out.wrapped++;
            else out.inside.push(text.slice(m.index, i) + "|" + text.slice(i, m.index + m[0].length));
          }
        }
      }
      return out;
    });
    check(found.broken.length === 0, `${view} at ${narrowPhone.width} px: no short cell wraps` +
          (found.broken.length ? " (not " + JSON.stringify(found.broken) + ")" : ""));
    check(found.wide.length === 0, `${view} at ${narrowPhone.width} px: no cell with a code is wider than the screen` +
          (found.wide.length ? " (not " + JSON.stringify(found.wide) + ")" : ""));
    check(found.inside.length === 0, `${view} at ${narrowPhone.width} px: ${found.wrapped} codes wrap after a separator, none inside a word` +
          (found.inside.length ? " (not " + JSON.stringify(found.inside) + ")" : ""));
    return found.wrapped;
  };
  // Each language, each width: checked at the phones', a screenshot at each. Answers how many codes
  // wrapped at a separator at the narrowest width, in each language.
  const views = async (page, role) => {
    const wrapped = {};
    for (const lang of ["zh", "en"]) {
      await language(page, lang);
      await page.screenshot({ path: `${out}/console-${role}-${lang}-desktop.png`, fullPage: true });
      await page.setViewportSize(phone);
      await fitsThePhone(page, `the ${role}'s view in ${lang}`);
      await page.screenshot({ path: `${out}/console-${role}-${lang}-phone.png`, fullPage: true });
      await page.setViewportSize(narrowPhone);
      await fitsThePhone(page, `the ${role}'s view in ${lang}`);
      wrapped[lang] = await codesWrapAtSeparators(page, `the ${role}'s view in ${lang}`);
      await page.screenshot({ path: `${out}/console-${role}-${lang}-${narrowPhone.width}.png`, fullPage: true });
      await page.setViewportSize(desktop);
    }
    await language(page, "zh");
    return wrapped;
  };
  // A date field's state: its value, hint, error beside it and whether it is marked invalid.
  const field = (page, id) => page.evaluate((id) => {
    const input = document.getElementById(id), error = document.getElementById(id + "-error");
    return { type: input.type, value: input.value, hint: input.placeholder, invalid: input.getAttribute("aria-invalid") === "true",
             error: error && !error.hidden ? error.textContent : "", describedBy: input.getAttribute("aria-describedby") };
  }, id);

  // The clerk: a month typed wrong, then as the Chinese write it; the roll's problems.
  const clerk = await logIn("maker");
  let f = await field(clerk, "upload-period");
  check(f.type === "text" && f.hint === "如 2026-02" && f.describedBy === "upload-period-error",
        "the roll's month is a field with a Chinese hint, its error linked: " + JSON.stringify(f));
  await clerk.locator("#upload-fund").selectOption("F-SUBSIDY");
  await clerk.locator("#upload-file").setInputFiles({ name: "roll.csv", mimeType: "text/csv", buffer: csv(good) });
  await clerk.fill("#upload-period", `${y}-13`);
  await clerk.click("#upload-form button[type=submit]");
  f = await field(clerk, "upload-period");
  check(f.invalid && f.error.includes(`“${y}-13”不是有效月份`), "a thirteenth month is refused beside the field, in Chinese: " + f.error);
  check((await clerk.textContent("#upload-result")) === "", "and nothing is sent");
  check((await clerk.evaluate(() => document.activeElement.id)) === "upload-period", "the focus goes back to the month");
  const [ny, nm] = next.split("-").map(Number);
  await clerk.fill("#upload-period", `${ny}年${nm}月`);
  f = await field(clerk, "upload-period");
  check(!f.invalid && f.error === "", "typing in the field again clears its error");
  await clerk.click("#upload-form button[type=submit]");
  await clerk.waitForSelector("#upload-result.ok");
  f = await field(clerk, "upload-period");
  check(f.value === next && !f.invalid, `"${ny}年${nm}月" is taken and sent as ${next}: ` + JSON.stringify(f));
  const batch = (await clerk.textContent("#upload-result")).match(/R\d{6}-[0-9a-f]{12}/)[0];
  check(!!batch, "the roll is prepared as " + batch);
  await clerk.waitForSelector(`tr[data-batch="${batch}"]`);
  // The same month's roll with mistakes: its problems beside the batch waiting for approval.
  await clerk.locator("#upload-file").setInputFiles({ name: "roll-bad.csv", mimeType: "text/csv", buffer: csv(bad) });
  await clerk.click("#upload-form button[type=submit]");
  await clerk.waitForSelector("#problems:not([hidden])");
  const required = await clerk.evaluate(() => {
    document.getElementById("lookup-query").value = "";
    document.getElementById("lookup-form").requestSubmit();
    return document.getElementById("lookup-query").validationMessage;
  });
  check(required === "请填写这一项。", "an empty required field is named in the page's language, not the browser's: " + required);
  await views(clerk, "clerk");
  await clerk.context().close();

  // The checker, a batch under review: the widest table of all on a phone.
  const checker = await logIn("checker");
  check(await checker.locator("#upload-section").isHidden(), "the checker is not offered the roll upload they may not make");
  await checker.getByRole("button", { name: "审阅 " + batch }).click();
  await checker.waitForSelector("#review:not([hidden]) #review-summary");
  await views(checker, "checker");
  await checker.context().close();

  // The auditor: a date as the Chinese write it, a date that is none, in either language.
  const auditor = await logIn("auditor");
  await auditor.waitForSelector("#balances-asof");
  f = await field(auditor, "balances-asof");
  check(f.type === "text" && f.hint === "如 2026-03-31", "the as-of date is no browser date field (mm/dd/yyyy) but a Chinese hint: " + JSON.stringify(f));
  await auditor.fill("#balances-asof", "31/02/2025");
  await auditor.click("#balances-form button[type=submit]");
  f = await field(auditor, "balances-asof");
  check(f.invalid && f.error.startsWith("“31/02/2025”不是有效日期") && (await auditor.textContent("#balances-result")) === "",
        "a date that is none is refused beside the field, in Chinese, nothing sent: " + f.error);
  await language(auditor, "en");
  f = await field(auditor, "balances-asof");
  check(f.hint === "e.g. 2026-03-31" && f.error.startsWith('"31/02/2025" is not a date'), "the hint and the error switch to English with the page: " + JSON.stringify(f));
  await language(auditor, "zh");
  // Balances as of today (the demo's entries are stamped when it was made), written the Chinese way.
  // Today in China (UTC+8), where the ledger's days end: the UTC date is the day before from
  // 16:00 UTC on, and a day that ended before the demo was made holds none of its entries.
  const china = new Date(Date.now() + 8 * 3600 * 1000);
  const today = [china.getUTCFullYear(), china.getUTCMonth() + 1, china.getUTCDate()];
  await auditor.fill("#balances-asof", `${today[0]}年${today[1]}月${today[2]}日`);
  await auditor.click("#balances-form button[type=submit]");
  await auditor.waitForFunction(() => document.getElementById("balances-result").textContent !== "");
  f = await field(auditor, "balances-asof");
  const asOf = today.map((n) => String(n).padStart(2, "0")).join("-");
  check(f.value === asOf && !f.invalid && (await auditor.textContent("#balances-result")).startsWith("截至第"),
        `"${today[0]}年${today[1]}月${today[2]}日" is taken and sent as ${f.value}: ` + await auditor.textContent("#balances-result"));
  await auditor.click("#anomalies-run");
  await auditor.waitForFunction(() => /\d/.test(document.getElementById("anomalies-result").textContent));
  const firstCheck = await auditor.textContent("#anomalies-table tbody tr td");
  check(/^[\u4e00-\u9fff].*（[a-z0-9_]+）$/.test(firstCheck), "an anomaly check is named in Chinese, its code beside: " + firstCheck);
  const wrapped = await views(auditor, "auditor");
  // The findings' check ids (lottery_announcement_missing) are longer than a phone's first column.
  check(wrapped.en > 0, `the auditor's long codes wrap at their separators at ${narrowPhone.width} px in English (${wrapped.en})`);
  await auditor.context().close();

  // The admin: every panel at once, the staff accounts among them.
  const boss = await logIn("admin");
  await boss.waitForSelector("#accounts-table tbody tr");
  await views(boss, "admin");
  await boss.context().close();

  // The log-in page, before anyone is known.
  const context = await browser.newContext({ viewport: desktop, locale: "en-US" });
  const page = await context.newPage();
  await page.goto(base + "/console");
  await page.waitForSelector("#login-form");
  for (const lang of ["zh", "en"]) {
    await language(page, lang);
    await page.setViewportSize(phone);
    await fitsThePhone(page, `the log-in page in ${lang}`);
    await page.screenshot({ path: `${out}/console-login-${lang}-phone.png`, fullPage: true });
    await page.setViewportSize(desktop);
  }
  await context.close();
});
