// Headless Chromium against a real `fundledger serve` whose checkpoints two `fundledger witness
// serve` cosign: the public list and a published disclosure page load on a phone-sized screen;
// the page draws the report's figures from its verified bytes and says it verified, with the
// key's fingerprint and the witnesses; a key and a witness policy pinned in the link are used
// (a wrong key, and a policy whose witness did not cosign, fail); a page whose figures were
// altered in flight fails and shows none of them; every message is in one language and the
// switch changes all of them; ratios breaking a legal limit are flagged; recipients are paged
// and searchable; evidence streams in pages. Screenshots go to the output directory.
// Usage: node disclosure_test.mjs FUNDLEDGER_CLI OUTPUT_DIR
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { finishConsoleTest, launchChromium, newTally, serveOnLoopback, signingClient } from "./serve_demo.mjs";

const [cli, out] = process.argv.slice(2);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const { tally, check } = newTally();
const run = (...args) => execFileSync(cli, args, { stdio: ["ignore", "pipe", "ignore"] }).toString();
const keyLine = (text) => /key: (\S+)/.exec(text)[1];
// Starts `fundledger ...args` on a loopback port and resolves to its base URL.
const serve = async (...args) => (await serveOnLoopback(cli, ...args)).base;
const han = /[\u4e00-\u9fff]/;
const latin = /[A-Za-z]/;
// What the page says of its verification, once it has decided.
async function verdict(page) {
  await page.waitForSelector("#verify-result[data-result=valid], #verify-result[data-result=invalid]", { timeout: 60000 });
  return { result: await page.getAttribute("#verify-result", "data-result"), text: await page.textContent("#verify-result") };
}

// A small demo city, its tokens, and two witnesses of its log; a third witness key that never
// cosigns anything; another key of the same name.
const city = out + "/city";
const demo = run("demo", "--data", city, "--people", "60", "--months", "3");
const tokens = Object.fromEntries(demo.trim().split("\n").filter((l) => l.startsWith("token ")).map((l) => l.split(" ")).map((w) => [w[1], w[3]]));
const logKey = run("key", "--data", city).trim();
cpSync(city, city + "-copy", { recursive: true });  // for the CLI while the server holds the store
const origin = logKey.split("+")[0];
const otherKey = keyLine(run("init", "--origin", origin, "--data", out + "/impostor"));
writeFileSync(out + "/witness.conf", "origin " + origin + "\nkey " + logKey + "\n");
const witnessKeys = {}, witnessUrls = {};
for (const name of ["office", "federation", "absent"]) {
  witnessKeys[name] = keyLine(run("witness", "init", "--data", out + "/w-" + name, "--name", name + ".witness.test"));
}
await finishConsoleTest(tally, async () => {
  for (const name of ["office", "federation"]) {
    witnessUrls[name] = await serve("witness", "serve", "--data", out + "/w-" + name, "--config", out + "/witness.conf");
  }
  const policy = (names, quorum) => "log " + logKey + "\n" + names.map((n) => "witness " + n + " " + witnessKeys[n] + (witnessUrls[n] ? " " + witnessUrls[n] : "") + "\n").join("") + quorum;
  writeFileSync(out + "/policy", policy(["office", "federation"], "group both all office federation\nquorum both\n"));
  const base = await serve("serve", "--data", city, "--quiet", "--witness-policy", out + "/policy");

  // The charity publishes its report for the demo city's year (its money is dated 2025); the
  // bureau publishes its subsidy fund's, with the masked recipients.
  const year = "2025";
  // The demo requires signed commands: each publisher signs with the key file the demo wrote.
  const publish = async (client, body) => {
    const res = await client("POST", "/v1/disclosures", { scope: "fund", period: year, ...body });
    check(res.status === 201, "publish " + body.id + " (HTTP " + res.status + ")");
    return res.json.index;
  };
  const charity = await signingClient(base, city, tokens.charity, "charity.sunshine", "charity");
  const admin = await signingClient(base, city, tokens.admin, "admin.zhao", "admin");
  const index = await publish(charity, { id: "F-SUNSHINE" });
  const subsidyIndex = await publish(admin, { id: "F-SUBSIDY", include_recipients: true });
  const report = await (await fetch(base + "/v1/disclosures/" + index)).json();
  const subsidy = await (await fetch(base + "/v1/disclosures/" + subsidyIndex)).json();
  // The witnesses cosign a checkpoint holding both publications (bounded wait for a state).
  for (let i = 0; i < 600; i++) {
    const size = Number((await (await fetch(base + "/v1/checkpoint")).text()).split("\n")[1]);
    if (size > subsidyIndex) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });  // a phone
  await page.goto(base + "/");
  check(await page.locator('a[href="/disclosures/' + index + '"]').count() === 1, "the list links the published disclosure");
  check((await page.textContent("#disclosures")).includes("阳光慈善基金会") && !(await page.textContent("#disclosures")).includes("F-SUNSHINE"), "the list names funds, not codes");
  check((await page.innerText("#disclosures")).includes("年度报告") && !(await page.innerText("#disclosures")).includes("Annual"), "the list's words are in one language");
  await page.screenshot({ path: out + "/list.png", fullPage: true });

  // Unpinned: valid, with the server's key, its fingerprint and a warning that nothing pinned it.
  const yuan = (fen) => { const s = String(fen).padStart(3, "0"); return s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + s.slice(-2); };
  const fingerprint = createHash("sha256").update(Buffer.from(logKey.split("+").slice(2).join("+"), "base64").subarray(1)).digest("hex").match(/..../g).join(" ");
  const pageUrl = base + "/disclosures/" + index;
  await page.goto(pageUrl);
  let v = await verdict(page);
  check(v.result === "valid" && v.text.startsWith("✔ 验证通过") && !latin.test(v.text), "unpinned: verified, in Chinese only (" + v.text + ")");
  check(await page.locator("#unpinned").isVisible(), "unpinned: the page says the key came from the website itself");
  check((await page.textContent("#fingerprint")) === fingerprint, "the key's fingerprint is shown (" + fingerprint + ")");
  check(report.closing_fen >= 100000 && (await page.textContent("#closing")) === yuan(report.closing_fen) + " 元", "the closing balance, in 元 with thousands separators (" + (await page.textContent("#closing")) + ")");
  check((await page.textContent("#donations")) === yuan(report.receipts.donations_fen), "donations match the verified report");
  check(await page.locator("#witnesses li[data-checked=false]").count() === 2, "unpinned: the two cosignatures are listed as not checked");
  check((await page.textContent("#spending-class")).includes("管理费用") && !(await page.textContent("#spending-class")).includes("admin"), "spending classes by name, not code");
  // Admin costs 4,500.00 of 11,500.00 spent: 39.13%, shown 39.2% (rounded away from the limit) and flagged.
  check((await page.getAttribute("#ratio-admin", "data-breaks")) === "true" && (await page.textContent("#ratio-admin")).includes("39.2%"), "admin costs over 10% are flagged (" + (await page.textContent("#ratio-admin")) + ")");
  await page.screenshot({ path: out + "/report-zh-unpinned.png", fullPage: true });

  // Pinned key and witness policy in the link: valid, both witnesses checked.
  const fragment = (key, pol) => "#" + [key ? "key=" + encodeURIComponent(key) : "", pol ? "policy=" + encodeURIComponent(pol) : ""].filter((x) => x).join("&");
  const readerPolicy = "log " + logKey + "\nwitness office " + witnessKeys.office + "\nwitness federation " + witnessKeys.federation + "\ngroup both all office federation\nquorum both\n";
  await page.goto("about:blank");
  await page.goto(pageUrl + fragment(logKey, readerPolicy));
  v = await verdict(page);
  check(v.result === "valid", "pinned key and witness policy: verified (" + v.text + ")");
  check(await page.locator("#witnesses li[data-checked=true]").count() === 2 && (await page.textContent("#witnesses")).includes("office"), "both witnesses' cosignatures checked and named");
  check(await page.locator("#unpinned").count() === 0, "pinned: no warning about the key's source");
  await page.screenshot({ path: out + "/report-zh-pinned.png", fullPage: true });

  // The language switch changes every message, the verdict included.
  await page.click("#lang-switch");
  check((await page.getAttribute("html", "data-lang")) === "en", "the language switch shows English");
  const en = await page.textContent("#verification");
  check(en.includes("Verified") && !han.test(en), "the verification box is in English only");
  check((await page.textContent("#reconciliation")).includes("Closing balance") && !han.test(await page.textContent("#reconciliation")), "the tables are in English only");
  await page.screenshot({ path: out + "/report-en.png", fullPage: true });
  await page.click("#lang-switch");
  check((await page.textContent("#verify-result")).includes("验证通过"), "and back to Chinese");

  // The reader keeps the pins in this browser: a later visit without them in the link uses them.
  await page.click("#remember");
  await page.goto("about:blank");
  await page.goto(pageUrl);
  v = await verdict(page);
  check(v.result === "valid" && (await page.textContent("#verification")).includes("保存在此浏览器中") &&
        await page.locator("#witnesses li[data-checked=true]").count() === 2 && await page.locator("#unpinned").count() === 0,
        "pins remembered in this browser are used without the link");
  await page.click("#forget");
  v = await verdict(page);
  check(v.result === "valid" && await page.locator("#unpinned").isVisible(), "once forgotten, the page is unpinned again");

  // A key published elsewhere that is not this log's: fails.
  await page.goto("about:blank");
  await page.goto(pageUrl + fragment(otherKey, ""));
  v = await verdict(page);
  check(v.result === "invalid" && v.text.includes("没有由固定的公钥签名") && !latin.test(v.text), "a wrong pinned key fails, in Chinese only (" + v.text + ")");
  check(await page.locator("#figures").count() === 0, "a page that failed shows no figures");
  await page.screenshot({ path: out + "/report-wrong-key.png", fullPage: true });

  // A policy whose only witness never cosigned: fails, naming who did.
  await page.goto("about:blank");
  await page.goto(pageUrl + fragment("", "log " + logKey + "\nwitness absent " + witnessKeys.absent + "\nquorum absent\n"));
  v = await verdict(page);
  check(v.result === "invalid" && v.text.includes("缺少见证策略要求的联署"), "a policy whose witness did not cosign fails (" + v.text + ")");

  // The page altered in flight: its closing balance raised by 7,000,000.00. Fails, shows none.
  const forged = report.closing_fen + 700000000;
  await page.route((url) => url.pathname === "/disclosures/" + index, async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replaceAll('"closing_fen":' + report.closing_fen, '"closing_fen":' + forged);
    await route.fulfill({ response, body: html });
  });
  await page.goto("about:blank");
  await page.goto(pageUrl);
  v = await verdict(page);
  check(v.result === "invalid" && v.text.includes("本页的报告与公开记录中的不同"), "a page altered in flight fails, for that reason (" + v.text + ")");
  check(!(await page.textContent("body")).includes(yuan(forged)) && await page.locator("#fund-names").count() === 0,
        "nothing of the altered report is shown");
  await page.screenshot({ path: out + "/report-altered.png", fullPage: true });
  await page.unrouteAll();

  // A larger report: evidence streams in pages (forced to 5 entries each) with progress;
  // recipients paged 20 at a time and searchable.
  let evidencePages = 0;
  await page.route((url) => url.pathname === "/v1/disclosures/" + subsidyIndex + "/evidence", (route) => {
    evidencePages++;
    const url = new URL(route.request().url());
    url.searchParams.set("count", "5");
    return route.continue({ url: url.toString() });
  });
  await page.addInitScript(() => {
    window.sawProgress = false;
    new MutationObserver(() => { if (document.getElementById("verify-progress")) window.sawProgress = true; })
      .observe(document, { childList: true, subtree: true });
  });
  await page.goto(base + "/disclosures/" + subsidyIndex + fragment(logKey, readerPolicy));
  v = await verdict(page);
  const scope = subsidy.evidence.entries.length;
  check(v.result === "valid" && evidencePages === Math.ceil(scope / 5) && (await page.evaluate(() => window.sawProgress)),
        "a report of " + scope + " entries verifies in " + evidencePages + " pages with progress (" + v.text + ")");
  const paid = await page.textContent("#paid");
  const purposes = await page.textContent("#spending-purpose");
  check(paid.includes("城乡最低生活保障") && paid.includes("玄武区") && !paid.includes("320102") && !paid.includes("dibao") &&
        purposes.includes("城乡最低生活保障") && !purposes.includes("dibao"),
        "programs and regions by name, not code");
  const people = subsidy.recipients.length;
  check(people > 20 && await page.locator("#recipients tr").count() === 21, "recipients paged: 20 of " + people + " shown");
  await page.click("#recipients-next");
  check((await page.textContent("#recipients-page")).startsWith("第 2 /"), "the next page of recipients");
  const someone = subsidy.recipients[people - 1];
  await page.fill("#recipient-search", someone.name);
  const found = await page.locator("#recipients tr").allTextContents();
  check(found.length >= 2 && found.slice(1).every((r) => r.includes(someone.name)), "search finds " + someone.name);
  await page.fill("#recipient-search", "浦口区");
  const inPukou = subsidy.recipients.filter((r) => r.region === "320111").length;
  check((await page.textContent("#recipients-page")).includes("共 " + inPukou + " 人"), "search by region name finds its " + inPukou + " recipients");
  await page.screenshot({ path: out + "/report-recipients.png", fullPage: true });

  // A preview (`disclose --format html`, a standalone file) of a report carrying a publication
  // date and the interim marker renders both, and says it is neither published nor verified.
  const preview = run("disclose", "--data", city + "-copy", "--fund", "F-SUNSHINE", "--period", year, "--format", "html")
    .replace('{"format":"fundledger-disclosure-v2",', '{"format":"fundledger-disclosure-v2","published_on":"' + year + '-04-10","interim":true,');
  await page.unrouteAll();
  await page.setContent(preview);
  await page.waitForSelector("#verify-result[data-result=preview]");
  check((await page.textContent("#published-on")) === year + "-04-10" && (await page.locator("#interim").isVisible()),
        "the publication date and the interim marker are shown when the report carries them");
  check((await page.textContent("#verify-result")).includes("尚未发布"), "a preview says it is not published");
  await page.screenshot({ path: out + "/preview-interim.png", fullPage: true });
});
