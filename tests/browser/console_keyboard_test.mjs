// The clerk's main path in the staff console from the keyboard alone (Tab, Shift+Tab, Enter,
// Space, arrows; no mouse click): log in, choose the roll's fund and month, open the file chooser
// and pick a roll with mistakes, upload it, read every problem and download them, pick the fixed
// roll and submit it. On the way, every control the Tab key reaches has an accessible name (what
// a screen reader announces, from Chromium's accessibility tree) and a visible focus indicator.
// The clerk is the demo's own (the account `fundledger demo` prints and `scripts/run` lists). Works
// whether the demo ledger requires signed commands or not (on a signing ledger
// scripts/register-browser-key, as README.md says, registers the clerk's browser key).
// Screenshots at desktop and phone width go to the output directory.
// Usage: node console_keyboard_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startConsoleTest, finishConsoleTest, launchChromium, nextMonthRoll } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
const { base, tally, check, admin, accounts, tokens, actors, dir } = await startConsoleTest(cli, out, 30, 2);
const waitMs = 60_000;

await finishConsoleTest(tally, async () => {
  // The demo's own clerk, as `scripts/run` prints the account.
  const clerk = accounts.maker;
  check(!!clerk && clerk.password.length >= 10, "the demo prints a console account for its maker: " + (clerk && clerk.name));
  // Next month's roll for people paid in the newest approved month; one with three mistakes.
  const { lines, next, yuan } = await nextMonthRoll(admin, 5);
  const good = lines.map((l) => [l.beneficiary_id, l.program_id, yuan(l.amount_fen)]);
  const bad = good.map((row) => [...row]);
  bad[0][2] = "12,3.4";     // row 2: a malformed amount
  bad[2][0] = "B999999";    // row 4: nobody
  bad[4] = [...bad[1]];     // row 6: row 3 again
  const csv = (rows) => Buffer.from("受益人编号,项目,金额\r\n" + rows.map((row) => row.join(",")).join("\r\n") + "\r\n");

  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(waitMs);
  const page = await context.newPage();
  // Choosers are intercepted from the start: the interception a waitForEvent turns on is sent
  // to the browser beside the key press that opens one, and can arrive after it.
  page.on("filechooser", () => {});
  const cdp = await context.newCDPSession(page);
  await cdp.send("Accessibility.enable");

  // What has focus: its id, tag, accessible name (Chromium's, as a screen reader gets it) and
  // whether its focus is drawn (an outline or a box shadow where it was none without focus).
  const focused = async () => {
    const state = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      // A file field is drawn by the label that opens it (FLConsole.filePicker): its focus shows there.
      const drawnBy = el.type === "file" ? [...el.labels].find((l) => l.classList.contains("file-button")) || el : el;
      const style = getComputedStyle(drawnBy);
      const drawn = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none";
      return { id: el.id, tag: el.tagName.toLowerCase(), type: el.type || "", text: (el.textContent || "").trim().slice(0, 30), drawn };
    });
    if (!state) return null;
    const { result } = await cdp.send("Runtime.evaluate", { expression: "document.activeElement" });
    const { node } = await cdp.send("DOM.describeNode", { objectId: result.objectId });
    const { nodes } = await cdp.send("Accessibility.getPartialAXTree", { backendNodeId: node.backendNodeId, fetchRelatives: false });
    return { ...state, name: (nodes[0] && nodes[0].name && nodes[0].name.value || "").trim() };
  };
  const tabTo = async (id, key = "Tab", max = 80) => {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(key);
      const f = await focused();
      if (f && f.id === id) return true;
    }
    return false;
  };

  await page.goto(base + "/console");
  check(await tabTo("login-name"), "Tab reaches the name field");
  await page.keyboard.type(clerk.name);
  await page.keyboard.press("Tab");
  await page.keyboard.type(clerk.password);
  await page.keyboard.press("Enter");
  const loggedIn = await page.waitForSelector("#work:not([hidden])").then(() => true, () => false);
  check(loggedIn, "Enter logs in" + (loggedIn ? "" : " (the page says " + await page.textContent("#login-error") + ")"));
  await page.waitForSelector("#key-state[data-signer]", { state: "attached" });
  const who = await page.evaluate(async () => (await fetch("/v1/sessions/current")).json());
  if (who.signing && who.signing.required) {
    // As a person following README.md does: the admin's script registers the key the browser handed in.
    const register = (name) => spawnSync(fileURLToPath(new URL("../../scripts/register-browser-key", import.meta.url)), [name], {
      env: { ...process.env, FUNDLEDGER: cli, LISTEN: new URL(base).host, ADMIN_TOKEN: tokens.admin,
             ADMIN_KEY: `${dir}.keys/staff/${actors.admin}.key` } });
    const mistyped = register("clerk.nobody");
    check(mistyped.status === 1 && mistyped.stderr.toString().includes("no console account named 'clerk.nobody'"),
          "scripts/register-browser-key names an account that does not exist: " + mistyped.stderr.toString().trim());
    const registered = register(clerk.name);
    const said = registered.stdout.toString().trim();
    check(registered.status === 0, "scripts/register-browser-key exits 0: " + registered.stderr.toString().trim());
    const shown = await page.textContent("#key-state");
    check(said.startsWith(`registered ${clerk.name}'s browser key`) && shown.includes(said.split(" ")[4]),
          "scripts/register-browser-key registers the key id the console shows: " + said);
    await page.reload();
    await page.waitForSelector("#key-state.ok");
  }

  // The fund: a select, chosen with the arrow keys.
  check(await tabTo("upload-fund"), "Tab reaches the fund");
  const funds = await page.$$eval("#upload-fund option", (os) => os.map((o) => o.value));
  await page.keyboard.press("Home");
  for (let i = 0; i < funds.indexOf("F-SUBSIDY"); i++) await page.keyboard.press("ArrowDown");
  check(await page.inputValue("#upload-fund") === "F-SUBSIDY", "the arrow keys choose the fund");
  check(await tabTo("upload-period", "Tab", 2), "Tab moves on to the month");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(next);
  check(await tabTo("upload-file", "Tab", 2), "Tab moves on to the file");
  // Space on the focused file field opens the chooser. Under load a headless Chromium now and
  // then drops the chooser a key press asked for, so the press is tried again (still with the
  // field focused, still the keyboard alone) before the test gives up.
  const chooserTries = 3, chooserWaitMs = 20_000;
  const choose = async (name, bytes) => {
    for (let attempt = 1; ; attempt++) {
      check((await focused()).id === "upload-file", "the file field has focus before Space");
      const opened = page.waitForEvent("filechooser", { timeout: chooserWaitMs });
      await page.keyboard.press("Space");
      const chooser = await opened.catch((e) => { if (attempt >= chooserTries) throw e; return null; });
      if (chooser) return chooser.setFiles({ name, mimeType: "text/csv", buffer: bytes });
      console.log("note the file chooser did not open on Space (try " + attempt + " of " + chooserTries + "); pressing it again");
    }
  };
  await choose("roll.csv", csv(bad));
  await page.keyboard.press("Tab");
  check((await focused()).type === "submit", "Tab moves on to the upload button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#problems:not([hidden])");
  const rows = await page.$$eval("#problems-table tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
  check(JSON.stringify(rows) === JSON.stringify(["2", "4", "6"]), "Enter uploads it and every problem shows, by spreadsheet row: " + rows.join(", "));
  await page.screenshot({ path: out + "/keyboard-problems-desktop.png", fullPage: true });
  check(await tabTo("problems-download"), "Tab reaches the problems' download");
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  check(download.suggestedFilename().endsWith(".xlsx"), "Enter downloads them (" + download.suggestedFilename() + ")");
  await tabTo("problems-download-csv");

  // Back to the file with Shift+Tab, the fixed roll, and the upload button.
  check(await tabTo("upload-file", "Shift+Tab"), "Shift+Tab goes back to the file");
  await choose("roll-fixed.csv", csv(good));
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#upload-result.ok");
  check(/R\d{6}-[0-9a-f]{12}/.test(await page.textContent("#upload-result")), "the fixed roll is submitted: " + await page.textContent("#upload-result"));

  // Every control on the page, each once: Tab round the whole page, back to where it started.
  await page.evaluate(() => document.activeElement.blur());
  const stops = [];
  for (let i = 0; i < 300; i++) {
    await page.keyboard.press("Tab");
    const f = await focused();
    if (!f) continue;
    if (await page.evaluate(() => document.activeElement.dataset.kbFirst === "1")) break;
    if (!stops.length) await page.evaluate(() => { document.activeElement.dataset.kbFirst = "1"; });
    stops.push(f);
  }
  console.log("     focus stops: " + stops.map((f) => `${f.tag}#${f.id} "${f.name}"`).join(", "));
  const unnamed = stops.filter((f) => !f.name).map((f) => `${f.tag}#${f.id}`);
  const undrawn = stops.filter((f) => !f.drawn).map((f) => `${f.tag}#${f.id || f.text}`);
  check(stops.length >= 10 && unnamed.length === 0, `each of the ${stops.length} controls Tab reaches has an accessible name` + (unnamed.length ? ": not " + unnamed.join(", ") : ""));
  check(undrawn.length === 0, "each shows where the focus is" + (undrawn.length ? ": not " + undrawn.join(", ") : ""));
  await page.focus("#upload-file");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  await page.screenshot({ path: out + "/keyboard-focus-desktop.png" });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: out + "/keyboard-focus-phone.png", fullPage: true });
});
