// The public disclosure page: renders a published report from the exact bytes embedded in the
// page (#report-data) and verifies those bytes in the reader's browser with WebCrypto only.
// What a reader sees is drawn from the verified bytes, so a page whose figures were altered in
// flight fails: its bytes are not the ones the log's DisclosurePublished entry names.
//
// Trust: the log's key comes from the URL fragment (#key=<vkey>) or from a pinned witness
// policy (#policy=<C2SP tlog-policy text>, percent-encoded), never from the server being
// checked; without a pin the server's key is used and the page says the check rests on it.
// With a policy, the checkpoint must carry cosignatures meeting its quorum (k of n).
//
// Steps: the latest (cosigned) checkpoint is signed by the key; the publication entry is in
// it; the report's SHA-256 is in that entry; the report's own checkpoint is signed by the key
// and consistent with the latest; every entry the report rests on is in the report's tree and
// their digest is the report's. Entries stream in pages with progress.
"use strict";
(() => {
  // ---- words: [zh, en]; every message the page shows is one of these -------------------------
  const W = {
    title: ["资金信息公开", "Fund disclosure"],
    switch_lang: ["English", "中文"],
    funds: ["资金", "Funds"],
    period: ["期间", "Period"],
    year: ["{0} 年度", "Year {0}"],
    quarter: ["{0} 年第 {1} 季度", "{0}, quarter {1}"],
    published_on: ["发布日期", "Published on"],
    published_entry: ["公开记录（日志条目）", "Publication (log entry)"],
    interim: ["中期报告：期间尚未结束，数字仍会变化", "Interim report: the period has not ended and figures will change"],
    preview: ["预览：尚未发布，也未经验证", "Preview: not published and not verified"],
    noscript: ["本页需要 JavaScript 才能显示经验证的数字。", "This page needs JavaScript to show verified figures."],
    // verification
    verification: ["验证", "Verification"],
    verifying: ["正在验证…", "Verifying…"],
    progress: ["正在核对日志条目 {0} / {1}", "Checking log entries {0} / {1}"],
    valid: ["验证通过：本页显示的数字就是已签名日志中公开的报告（{0} 个条目）", "Verified: the figures on this page are the report published in the signed log ({0} entries)"],
    valid_unpinned: ["但密钥取自本网站本身，未与别处公布的密钥核对。请核对下面的指纹。", "But the key came from this website itself, not from a key published elsewhere. Compare the fingerprint below."],
    invalid: ["验证失败：{0}。", "Verification failed: {0}."],
    hidden: ["未通过验证的数字不予显示。", "Figures that failed verification are not shown."],
    retry: ["重新验证", "Verify again"],
    key: ["日志公钥", "Log key"],
    fingerprint: ["公钥指纹（SHA-256）", "Key fingerprint (SHA-256)"],
    key_pinned: ["已固定：来自链接中给出的密钥", "Pinned: the key given in the link"],
    key_policy: ["已固定：来自链接中给出的见证策略", "Pinned: the witness policy given in the link"],
    key_unpinned: ["未固定：来自本网站", "Not pinned: from this website"],
    key_remembered: ["已固定：保存在此浏览器中", "Pinned: remembered in this browser"],
    remember: ["在此浏览器中记住此密钥和见证策略", "Remember this key and policy in this browser"],
    forget: ["忘记此浏览器中保存的密钥", "Forget the key remembered in this browser"],
    witnesses: ["见证人联署", "Witness cosignatures"],
    witness_checked: ["{0}（{1} 联署，已核对）", "{0} (cosigned {1}, checked)"],
    witness_unchecked: ["{0}（未核对：没有固定的见证策略）", "{0} (not checked: no witness policy pinned)"],
    no_witnesses: ["无见证人联署", "No witness cosignatures"],
    quorum: ["见证策略要求：{0}", "The policy requires: {0}"],
    proves_title: ["验证通过说明什么、不说明什么", "What passing proves, and what it does not"],
    proves: [
      "通过说明：本页的每个数字都来自一份报告，这份报告的 SHA-256 摘要记录在由上述公钥签名的日志中；报告所依据的每个日志条目都在该日志里，而且日志只增不改。若固定了见证策略，还说明所列见证人看到的是同一份日志，网站无法向不同的人展示不同的历史。",
      "Passing proves: every figure on this page comes from a report whose SHA-256 is recorded in the log signed by the key above; every log entry the report rests on is in that log, and the log only grew. With a pinned witness policy it also proves the listed witnesses saw this same log, so the website cannot show different people different histories.",
    ],
    not_proves: [
      "通过不说明：报告的数字是否如实反映了现实中的收支（那要靠审计）；未固定密钥时，公钥是否真属于发布机构；本页程序本身未被篡改（如有怀疑，请用 fundledger audit 工具离线核对）。",
      "Passing does not prove: that the figures reflect what really happened (that is for auditors); without a pinned key, that the key really belongs to the publisher; that this page's own program was not altered (if in doubt, check offline with the fundledger audit tool).",
    ],
    // reasons
    e_key: ["公钥格式不正确", "the key is malformed"],
    e_key_id: ["公钥编号与公钥不符", "the key's id does not match the key"],
    e_policy: ["见证策略第 {0} 行有误：{1}", "line {0} of the witness policy is wrong: {1}"],
    e_policy_log: ["见证策略中没有本日志（{0}）的公钥", "the witness policy names no key for this log ({0})"],
    e_pins_differ: ["链接中的公钥与见证策略中的日志公钥不同", "the key in the link differs from the log key in the witness policy"],
    e_not_signed: ["检查点没有由固定的公钥签名", "the checkpoint is not signed by the pinned key"],
    e_origin: ["检查点的来源与公钥名称不符", "the checkpoint's origin is not the key's name"],
    e_quorum: ["检查点缺少见证策略要求的联署（已联署：{0}）；刚发布的报告可能尚未被见证，请稍后再试", "the checkpoint lacks the cosignatures the witness policy requires (cosigned by: {0}); a report just published may not be witnessed yet, try again later"],
    e_published: ["公开记录不在已签名的日志中", "the publication entry is not in the signed log"],
    e_report_hash: ["本页的报告与公开记录中的不同（摘要不符）", "the report on this page differs from the one published (its hash is not in the entry)"],
    e_report_json: ["本页的报告数据无法读取", "the report data on this page cannot be read"],
    e_consistency: ["报告的检查点与最新检查点不一致", "the report's checkpoint is not consistent with the latest one"],
    e_entry: ["条目 {0} 不在报告的检查点中", "entry {0} is not in the report's checkpoint"],
    e_entries: ["服务器给出的条目不是报告所列的条目", "the entries served are not the ones the report names"],
    e_digest: ["条目摘要不符", "the entries digest does not match"],
    e_fetch: ["无法取得验证材料（{0}）", "the evidence could not be fetched ({0})"],
    e_webcrypto: ["此浏览器不支持 Ed25519 验证", "this browser cannot verify Ed25519 signatures"],
    // figures
    yuan: ["元", "yuan"],
    amount: ["金额（元）", "Amount (yuan)"],
    balances: ["余额", "Balances"],
    opening: ["期初余额", "Opening balance"],
    closing: ["期末余额", "Closing balance"],
    reconciliation: ["收支平衡（期初 + 流入 − 流出 = 期末）", "Reconciliation (opening + inflows − outflows = closing)"],
    inflows: ["流入", "Inflows"],
    outflows: ["流出", "Outflows"],
    receipts: ["收入", "Receipts"],
    donations: ["捐赠", "Donations"],
    donations_detail: ["{0} 笔，其中定向 {1}，非定向 {2}，匿名 {3} 笔", "{0} gifts: restricted {1}, unrestricted {2}, anonymous {3}"],
    appropriations: ["财政拨款", "Appropriations"],
    lottery_in: ["福彩公益金资助", "Lottery grants received"],
    spending_class: ["支出（按类别）", "Spending by class"],
    spending_purpose: ["支出（按用途或项目）", "Spending by purpose or program"],
    grants_out: ["资助支出（按类别）", "Grants made, by category"],
    paid: ["发放（按项目与地区）", "Paid by program and region"],
    program: ["项目", "Program"],
    region: ["地区", "Region"],
    people: ["人数", "People"],
    households: ["户数", "Households"],
    ratios: ["比例（年度，保留一位小数，不向达标方向取整）", "Ratios (year; one decimal, never rounded toward the limit)"],
    ratio: ["比例", "Ratio"],
    charitable_ratio: ["公益支出 / 上年收入", "Charitable spending / last year's income"],
    admin_ratio: ["管理费用 / 总支出", "Admin costs / total spending"],
    limit: ["法定要求", "Legal limit"],
    limit_charitable: ["不低于 70%", "at least 70%"],
    limit_admin: ["不高于 10%（具有公开募捐资格的基金会）", "at most 10% (public-fundraising foundations)"],
    breaks_limit: ["不符合", "breaks the limit"],
    meets_limit: ["符合", "within the limit"],
    no_base: ["无法计算", "cannot be computed"],
    restricted_left: ["定向资金结余", "Restricted money left"],
    recipients: ["受助人公示（姓名已脱敏）", "Recipients (names masked)"],
    name: ["姓名", "Name"],
    search: ["搜索姓名、地区或项目", "Search name, region or program"],
    page_of: ["第 {0} / {1} 页（共 {2} 人）", "Page {0} of {1} ({2} people)"],
    prev: ["上一页", "Previous"],
    next: ["下一页", "Next"],
    evidence: ["可验证依据", "Evidence"],
    checkpoint_size: ["报告所依据的日志大小", "Log size the report rests on"],
    entries: ["涉及的日志条目", "Log entries in scope"],
    digest: ["条目摘要", "Entries digest"],
    raw_data: ["原始报告数据（JSON）", "Raw report data (JSON)"],
    // fixed vocabularies of the report
    "class:charitable": ["公益慈善活动支出", "Charitable activities"],
    "class:admin": ["管理费用", "Administration"],
    "class:fundraising": ["募捐成本", "Fundraising costs"],
    "class:other": ["其他支出", "Other"],
    "class:payments": ["救助金发放", "Assistance payments"],
    "line:donations": ["捐赠", "Donations"],
    "line:appropriations": ["财政拨款", "Appropriations"],
    "line:lottery_grants": ["福彩公益金资助", "Lottery grants received"],
    "line:transfers_in": ["转入", "Transfers in"],
    "line:releases_in": ["解除限定转入", "Released into this scope"],
    "line:returns": ["退回（银行退票）", "Returned payments"],
    "line:recoveries": ["追回", "Recoveries"],
    "line:reversals": ["冲正", "Reversals"],
    "line:payments": ["发放", "Payments"],
    "line:reissues": ["补发", "Reissued payments"],
    "line:expenses": ["支出", "Expenses"],
    "line:grants": ["资助支出", "Grants made"],
    "line:transfers_out": ["转出", "Transfers out"],
    "line:releases_out": ["解除限定转出", "Released out of this scope"],
    "purpose:general": ["非定向", "Unrestricted"],
    "purpose:office": ["办公", "Office"],
    "purpose:elderly-care": ["养老服务", "Elderly care"],
    "purpose:child-welfare": ["儿童福利", "Child welfare"],
    "purpose:disability": ["助残", "Disability support"],
    "purpose:school-meals": ["学生营养餐", "School meals"],
  };
  const PAGE_ROWS = 20;
  // The reader's own list of pinned keys (and policies), per log origin, kept in this browser.
  const PIN_PREFIX = "fundledger-pin:";

  const state = {
    lang: document.documentElement.dataset.lang === "en" ? "en" : "zh",
    report: null,      // the parsed report, or null when its bytes do not parse
    text: "",          // the exact bytes, as text
    index: Number(document.getElementById("page")?.dataset.index),
    verdict: "pending", // pending | valid | invalid | preview
    message: null,     // [key, ...args]
    progress: null,    // [done, total]
    key: null,         // {vkey, fingerprint, source}
    witnesses: [],     // [{name, time, checked}]
    quorum: "",
    entries: 0,
    origin: "",        // the log's name, from the checkpoint
    pins: {},          // {key, policy} in use
    recipientsPage: 0,
    search: "",
  };

  const t = (key, ...args) => {
    const w = W[key];
    if (!w) return key;
    return w[state.lang === "en" ? 1 : 0].replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)]));
  };
  // A code's name: the report's own names first, then the page's vocabulary, else the code.
  const named = (kind, code) => {
    const names = (state.report && state.report.names) || {};
    // A purpose (a spending line, a restricted bucket) is often a program.
    const own = names[kind + ":" + code] || (kind === "purpose" ? names["program:" + code] : undefined);
    if (typeof own === "string" && own !== "") return own;
    return W[kind + ":" + code] ? t(kind + ":" + code) : code;
  };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");

  // ---- money, without floating point --------------------------------------------------------
  const big = (v) => (typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v) || 0)));
  const grouped = (n) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const yuan = (fen) => {
    const f = big(fen), a = f < 0n ? -f : f;
    return (f < 0n ? "−" : "") + grouped(a / 100n) + "." + (a % 100n).toString().padStart(2, "0");
  };
  const yuanText = (fen) => yuan(fen) + " " + t("yuan");
  // part / whole in percent with one decimal, rounded away from meeting the limit: up for an
  // "at most" limit, down for an "at least" one. null when whole is not positive.
  const percent = (part, whole, atMost) => {
    const p = big(part), w = big(whole);
    if (w <= 0n) return null;
    let tenths = (p * 1000n) / w;
    const exact = tenths * w === p * 1000n;
    if (!exact && atMost && p >= 0n) tenths += 1n;
    if (!exact && !atMost && p < 0n) tenths -= 1n;
    const a = tenths < 0n ? -tenths : tenths;
    return (tenths < 0n ? "−" : "") + (a / 10n).toString() + "." + (a % 10n).toString() + "%";
  };
  const parseReport = (text) =>
    JSON.parse(text, function (k, v, ctx) {  // amounts beyond 2^53 stay exact
      if (typeof v === "number" && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source)) return BigInt(ctx.source);
      return v;
    });

  // ---- rendering: everything shown is drawn from state.report --------------------------------
  const row = (cells) => "<tr>" + cells.join("") + "</tr>";
  const th = (s, n) => "<th" + (n ? ' class="n"' : "") + ">" + s + "</th>";
  const td = (s, n, id) => "<td" + (n ? ' class="n"' : "") + (id ? ' id="' + id + '"' : "") + ">" + s + "</td>";
  const section = (key, id, body) => "<h2>" + esc(t(key)) + "</h2><table id=\"" + id + "\">" + body + "</table>";
  const entriesOf = (m) => Object.entries(m || {});

  function periodText(p) {
    const q = /^(\d{4})-Q([1-4])$/.exec(p);
    if (q) return t("quarter", q[1], q[2]);
    return /^\d{4}$/.test(p) ? t("year", p) : p;
  }

  function headerHtml(r) {
    const fundNames = entriesOf(r.funds).map(([id, name]) => esc(name || id)).join("、");
    let h = "<h1>" + esc(t("title")) + "</h1><p class=\"lead\"><span id=\"fund-names\">" + fundNames +
      "</span> · <span id=\"period\">" + esc(periodText(r.scope.period)) + "</span></p><dl>";
    if (typeof r.published_on === "string") h += "<dt>" + esc(t("published_on")) + "</dt><dd id=\"published-on\">" + esc(r.published_on) + "</dd>";
    if (state.index) h += "<dt>" + esc(t("published_entry")) + "</dt><dd>#" + state.index + "</dd>";
    h += "</dl>";
    if (r.interim === true) h += "<p id=\"interim\" class=\"flag\">" + esc(t("interim")) + "</p>";
    return h;
  }

  function moneyHtml(r) {
    let h = section("balances", "balances",
      row([th(esc(t("opening"))), td(yuanText(r.opening_fen), true, "opening")]) +
      row([th(esc(t("closing"))), td(yuanText(r.closing_fen), true, "closing")]));
    const rec = r.reconciliation || {};
    let body = row([th(esc(t("opening"))), td(yuan(r.opening_fen), true)]);
    for (const [line, fen] of entriesOf(rec.inflows)) if (big(fen) !== 0n) body += row([th("+ " + esc(named("line", line))), td(yuan(fen), true)]);
    for (const [line, fen] of entriesOf(rec.outflows)) if (big(fen) !== 0n) body += row([th("− " + esc(named("line", line))), td(yuan(fen), true)]);
    body += row([th(esc(t("closing"))), td(yuan(r.closing_fen), true)]);
    h += section("reconciliation", "reconciliation", row([th(""), th(esc(t("amount")), true)]) + body);
    const rc = r.receipts || {};
    h += section("receipts", "receipts",
      row([th(esc(t("donations"))), td(yuan(rc.donations_fen), true, "donations"),
           td(esc(t("donations_detail", rc.donations_count, yuan(rc.donations_restricted_fen), yuan(rc.donations_open_fen), rc.anonymous_donations)))]) +
      row([th(esc(t("appropriations"))), td(yuan(rc.appropriations_fen), true), td("")]) +
      row([th(esc(t("lottery_in"))), td(yuan(rc.lottery_grants_in_fen), true), td("")]));
    return h;
  }

  function bars(map, kind, id, key) {
    const list = entriesOf(map);
    if (list.length === 0) return "";
    let max = 1n;
    for (const [, v] of list) if (big(v) > max) max = big(v);
    return section(key, id, list.map(([k, v]) => row([th(esc(named(kind, k))), td(yuan(v), true),
      td('<span class="bar" style="width:' + ((big(v) > 0n ? big(v) : 0n) * 100n / max) + '%"></span>', false)])).join(""));
  }

  function paidHtml(r) {
    const programs = entriesOf(r.paid_by_program_region);
    if (programs.length === 0) return "";
    let body = row([th(esc(t("program"))), th(esc(t("region"))), th(esc(t("amount")), true), th(esc(t("people")), true), th(esc(t("households")), true)]);
    for (const [program, regions] of programs) {
      for (const [region, p] of entriesOf(regions)) {
        body += row([td(esc(named("program", program))), td(esc(named("region", region))), td(yuan(p.amount_fen), true),
                     td(grouped(big(p.beneficiaries)), true), td(grouped(big(p.households)), true)]);
      }
    }
    return section("paid", "paid", body);
  }

  function ratiosHtml(r) {
    const x = r.ratios || {};
    const line = (key, part, whole, atMost, limitKey, id) => {
      const text = percent(part, whole, atMost);
      let verdict = esc(t("no_base")), cls = "";
      if (text !== null) {
        // Compared in integers, never through the rounded text.
        const breaks = atMost ? big(part) * 10n > big(whole) : big(part) * 10n < big(whole) * 7n;
        verdict = esc(t(breaks ? "breaks_limit" : "meets_limit"));
        cls = breaks ? "flag" : "ok";
      }
      return '<tr id="' + id + '" class="' + cls + '" data-breaks="' + (cls === "flag") + '">' + th(esc(t(key))) +
        td(text === null ? "—" : text, true) + td(esc(t(limitKey))) + td(verdict) + "</tr>";
    };
    if (big(x.previous_year_income_fen) === 0n && big(x.year_spending_fen) === 0n) return "";
    return section("ratios", "ratios",
      row([th(""), th(esc(t("ratio")), true), th(esc(t("limit"))), th("")]) +
      line("charitable_ratio", x.year_charitable_fen, x.previous_year_income_fen, false, "limit_charitable", "ratio-charitable") +
      line("admin_ratio", x.year_admin_fen, x.year_spending_fen, true, "limit_admin", "ratio-admin"));
  }

  function restrictedHtml(r) {
    const list = entriesOf(r.restricted_left);
    if (list.length === 0) return "";
    return section("restricted_left", "restricted-left", list.map(([k, v]) => {
      const slash = k.indexOf("/");
      const fund = slash < 0 ? k : k.slice(0, slash), bucket = slash < 0 ? "" : k.slice(slash + 1);
      const fundName = (r.funds && r.funds[fund]) || fund;
      return row([th(esc(fundName + " · " + named("purpose", bucket))), td(yuan(v), true)]);
    }).join(""));
  }

  function matchingRecipients(r) {
    const q = state.search.trim().toLowerCase();
    const all = r.recipients || [];
    if (q === "") return all;
    return all.filter((p) => [p.name, p.region, named("region", p.region), p.program, named("program", p.program)]
      .some((s) => String(s).toLowerCase().includes(q)));
  }

  function recipientsHtml(r) {
    if (!r.recipients || r.recipients.length === 0) return "";
    const list = matchingRecipients(r);
    const pages = Math.max(1, Math.ceil(list.length / PAGE_ROWS));
    state.recipientsPage = Math.min(state.recipientsPage, pages - 1);
    const shown = list.slice(state.recipientsPage * PAGE_ROWS, (state.recipientsPage + 1) * PAGE_ROWS);
    let h = "<h2>" + esc(t("recipients")) + "</h2><input id=\"recipient-search\" type=\"search\" placeholder=\"" +
      esc(t("search")) + "\" value=\"" + esc(state.search) + "\"><table id=\"recipients\">" +
      row([th(esc(t("name"))), th(esc(t("region"))), th(esc(t("program"))), th(esc(t("amount")), true)]);
    for (const p of shown) h += row([td(esc(p.name)), td(esc(named("region", p.region))), td(esc(named("program", p.program))), td(yuan(p.amount_fen), true)]);
    h += "</table><p class=\"pager\"><button id=\"recipients-prev\"" + (state.recipientsPage === 0 ? " disabled" : "") + ">" + esc(t("prev")) +
      "</button> <span id=\"recipients-page\">" + esc(t("page_of", state.recipientsPage + 1, pages, list.length)) +
      "</span> <button id=\"recipients-next\"" + (state.recipientsPage >= pages - 1 ? " disabled" : "") + ">" + esc(t("next")) + "</button></p>";
    return h;
  }

  function evidenceHtml(r) {
    const ev = r.evidence || {};
    return "<h2>" + esc(t("evidence")) + "</h2><dl><dt>" + esc(t("checkpoint_size")) + "</dt><dd>" + esc(ev.checkpoint_size) +
      "</dd><dt>" + esc(t("entries")) + "</dt><dd>" + esc((ev.entries || []).length) + "</dd><dt>" + esc(t("digest")) +
      "</dt><dd><code>" + esc(ev.entries_digest) + "</code></dd></dl>" +
      (state.index ? '<p><a href="/v1/disclosures/' + state.index + '">' + esc(t("raw_data")) + "</a></p>" : "");
  }

  function verificationHtml() {
    let h = '<section id="verification" class="' + state.verdict + '"><h2>' + esc(t("verification")) + "</h2>";
    h += '<p id="verify-result" data-result="' + (state.verdict === "pending" ? "" : state.verdict) + '">';
    if (state.verdict === "preview") h += esc(t("preview"));
    else if (state.verdict === "pending") h += esc(state.progress ? t("progress", state.progress[0], state.progress[1]) : t("verifying"));
    else if (state.verdict === "valid") h += "✔ " + esc(t("valid", state.entries));
    else h += "✘ " + esc(t("invalid", state.message ? t(...state.message) : "")) + " " + esc(t("hidden"));
    h += "</p>";
    if (state.verdict === "pending" && state.progress) {
      h += '<progress id="verify-progress" max="' + state.progress[1] + '" value="' + state.progress[0] + '"></progress>';
    }
    if (state.verdict === "valid" && state.key && state.key.source === "server") h += '<p class="warn" id="unpinned">' + esc(t("valid_unpinned")) + "</p>";
    if (state.key) {
      h += "<dl><dt>" + esc(t("key")) + '</dt><dd><code id="vkey">' + esc(state.key.vkey) + "</code><br>" +
        esc(t({ fragment: "key_pinned", policy: "key_policy", remembered: "key_remembered" }[state.key.source] || "key_unpinned")) +
        "</dd><dt>" + esc(t("fingerprint")) + '</dt><dd><code id="fingerprint">' + esc(state.key.fingerprint) + "</code></dd>";
      if (state.verdict === "valid" || state.witnesses.length > 0) {  // not before they are known
        h += "<dt>" + esc(t("witnesses")) + '</dt><dd><ul id="witnesses">';
        if (state.witnesses.length === 0) h += "<li>" + esc(t("no_witnesses")) + "</li>";
        for (const w of state.witnesses) {
          h += '<li data-checked="' + w.checked + '">' + esc(w.checked ? t("witness_checked", w.name, new Date(Number(w.time) * 1000).toISOString().slice(0, 10)) : t("witness_unchecked", w.name)) + "</li>";
        }
        h += "</ul>" + (state.quorum ? esc(t("quorum", state.quorum)) : "") + "</dd>";
      }
      h += "</dl>";
    }
    if (state.verdict === "invalid" && state.index) h += '<button id="verify">' + esc(t("retry")) + "</button>";
    if (state.verdict === "valid" && state.key && (state.key.source === "fragment" || state.key.source === "policy")) h += '<button id="remember">' + esc(t("remember")) + "</button>";
    if (state.key && state.key.source === "remembered") h += '<button id="forget">' + esc(t("forget")) + "</button>";
    h += "<details open><summary>" + esc(t("proves_title")) + "</summary><p>" + esc(t("proves")) + "</p><p>" + esc(t("not_proves")) + "</p></details></section>";
    return h;
  }

  function render() {
    const html = document.documentElement;
    html.dataset.lang = state.lang;
    html.lang = state.lang === "en" ? "en" : "zh-CN";
    const r = state.report;
    let h = '<button id="lang-switch">' + esc(t("switch_lang")) + "</button>";
    const shown = r && state.verdict !== "invalid";  // a page that failed shows nothing of the report
    if (shown) {
      h += headerHtml(r) + verificationHtml();
      h += '<div id="figures" class="' + (state.verdict === "valid" ? "verified" : "unverified") + '">' +
        moneyHtml(r) + bars(r.spending_by_class, "class", "spending-class", "spending_class") +
        bars(r.spending_by_purpose, "purpose", "spending-purpose", "spending_purpose") +
        bars(r.grants_out_by_category, "purpose", "grants-out", "grants_out") + paidHtml(r) + ratiosHtml(r) +
        restrictedHtml(r) + recipientsHtml(r) + evidenceHtml(r) + "</div>";
    } else {
      h += "<h1>" + esc(t("title")) + "</h1>" + verificationHtml();
    }
    document.title = t("title") + (shown ? " · " + entriesOf(r.funds).map(([id, n]) => n || id).join("、") + " · " + periodText(r.scope.period) : "");
    const page = document.getElementById("page");
    const focused = document.activeElement && document.activeElement.id === "recipient-search";
    page.innerHTML = h;
    wire(focused);
  }

  function wire(refocus) {
    document.getElementById("lang-switch").onclick = () => { state.lang = state.lang === "en" ? "zh" : "en"; render(); };
    const retry = document.getElementById("verify");
    if (retry) retry.onclick = () => run();
    const remember = document.getElementById("remember"), forget = document.getElementById("forget");
    if (remember) remember.onclick = () => { localStorage.setItem(PIN_PREFIX + state.origin, JSON.stringify(state.pins)); state.key.source = "remembered"; render(); };
    if (forget) forget.onclick = () => { localStorage.removeItem(PIN_PREFIX + state.origin); run(); };
    const search = document.getElementById("recipient-search");
    if (search) {
      search.oninput = () => { state.search = search.value; state.recipientsPage = 0; render(); };
      if (refocus) { search.focus(); search.setSelectionRange(search.value.length, search.value.length); }
    }
    const prev = document.getElementById("recipients-prev"), next = document.getElementById("recipients-next");
    if (prev) prev.onclick = () => { state.recipientsPage--; render(); };
    if (next) next.onclick = () => { state.recipientsPage++; render(); };
  }

  // ---- cryptography: C2SP signed notes, checkpoints, cosignatures; RFC 9162 proofs --------
  class Failure extends Error {
    constructor(...message) { super(message[0]); this.words = message; }
  }
  const hex = (b) => Array.from(b).map((x) => x.toString(16).padStart(2, "0")).join("");
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const unhex = (s) => Uint8Array.from((s.match(/../g) || []).map((h) => parseInt(h, 16)));
  const utf8 = (s) => new TextEncoder().encode(s);
  const concat = (...parts) => {
    const o = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let i = 0;
    for (const p of parts) { o.set(p, i); i += p.length; }
    return o;
  };
  const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // "<name>+<hex key id>+<base64(type || public key)>"; split at the first two '+' only.
  async function parseVkey(vkey, type) {
    const v = vkey.trim(), a = v.indexOf("+"), b = v.indexOf("+", a + 1);
    if (a <= 0 || b <= a) throw new Failure("e_key");
    const name = v.slice(0, a), id = v.slice(a + 1, b);
    let raw;
    try { raw = unb64(v.slice(b + 1)); } catch { throw new Failure("e_key"); }
    if (raw.length !== 33 || raw[0] !== type || !/^[0-9a-f]{8}$/.test(id)) throw new Failure("e_key");
    const computed = (await sha256(concat(utf8(name + "\n"), raw))).slice(0, 4);
    if (hex(computed) !== id) throw new Failure("e_key_id");
    let key;
    try { key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]); } catch { throw new Failure("e_webcrypto"); }
    const digest = hex(await sha256(raw.slice(1)));
    return { vkey: v, name, id, key, fingerprint: digest.match(/..../g).join(" ") };
  }

  function splitNote(note) {
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Failure("e_not_signed");
    const sigs = [];
    for (const line of note.slice(split + 2).split("\n")) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) continue;
      try { sigs.push({ name: m[1], blob: unb64(m[2]) }); } catch { /* not base64: not a signature */ }
    }
    return { text: note.slice(0, split + 1), sigs };
  }

  async function openCheckpoint(note, log) {
    const { text, sigs } = splitNote(note);
    for (const s of sigs) {
      if (s.name !== log.name || s.blob.length !== 68 || hex(s.blob.slice(0, 4)) !== log.id) continue;
      if (!(await crypto.subtle.verify({ name: "Ed25519" }, log.key, s.blob.slice(4), utf8(text)))) continue;
      const [origin, size, root] = text.split("\n");
      if (origin !== log.name) throw new Failure("e_origin");
      return { size: BigInt(size), root: unb64(root), text, sigs };
    }
    throw new Failure("e_not_signed");
  }

  // C2SP tlog-policy: log, witness, group and quorum lines.
  async function parsePolicy(text) {
    const logs = [], witnesses = [], nodes = new Map([["none", { k: 0, members: [] }]]);
    let quorum = null;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const f = lines[i].replace(/#.*/, "").trim().split(/[ \t]+/).filter((x) => x !== "");
      const bad = (why) => new Failure("e_policy", i + 1, why);
      if (f.length === 0) continue;
      if (f[0] === "log" && f.length >= 2) logs.push(await parseVkey(f[1], 1));
      else if (f[0] === "witness" && f.length >= 3) {
        if (nodes.has(f[1])) throw bad(f[1]);
        const w = await parseVkey(f[2], 4);
        w.policyName = f[1];
        witnesses.push(w);
        nodes.set(f[1], { witness: w });
      } else if (f[0] === "group" && f.length >= 4) {
        const members = f.slice(3);
        if (nodes.has(f[1]) || members.some((m) => !nodes.has(m))) throw bad(f[1]);
        const k = f[2] === "all" ? members.length : f[2] === "any" ? 1 : Number(f[2]);
        if (!Number.isInteger(k) || k < 1 || k > members.length) throw bad(f[2]);
        nodes.set(f[1], { k, members });
      } else if (f[0] === "quorum" && f.length === 2 && quorum === null && nodes.has(f[1])) quorum = f[1];
      else throw bad(f[0]);
    }
    if (quorum === null) throw new Failure("e_policy", lines.length, "quorum");
    return { logs, witnesses, nodes, quorum };
  }

  // The policy's witnesses whose cosignature/v1 over the checkpoint verifies.
  async function cosigners(cp, witnesses) {
    const out = [];
    for (const w of witnesses) {
      for (const s of cp.sigs) {
        if (s.name !== w.name || s.blob.length !== 76 || hex(s.blob.slice(0, 4)) !== w.id) continue;
        const time = new DataView(s.blob.buffer, s.blob.byteOffset + 4, 8).getBigUint64(0);
        const message = utf8("cosignature/v1\ntime " + time + "\n" + cp.text);
        if (await crypto.subtle.verify({ name: "Ed25519" }, w.key, s.blob.slice(12), message)) {
          out.push({ name: w.policyName, time, checked: true });
          break;
        }
      }
    }
    return out;
  }

  function quorumHolds(policy, name, signed) {
    const n = policy.nodes.get(name);
    if (n.witness) return signed.has(n.witness.policyName);
    return n.members.filter((m) => quorumHolds(policy, m, signed)).length >= n.k;
  }

  async function verifyInclusion(index, size, leaf, proof, root) {  // RFC 9162 2.1.3.2
    let fn = BigInt(index), sn = size - 1n, r = leaf;
    if (fn >= size) return false;
    for (const p of proof.map(unhex)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && same(r, root);
  }

  async function verifyConsistency(first, second, proofHex, firstRoot, secondRoot) {  // RFC 9162 2.1.4.2
    if (first === second) return proofHex.length === 0 && same(firstRoot, secondRoot);
    if (first === 0n || first > second || proofHex.length === 0) return false;
    let proof = proofHex.map(unhex);
    if ((first & (first - 1n)) === 0n) proof = [firstRoot, ...proof];
    let fn = first - 1n, sn = second - 1n;
    while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
    let fr = proof[0], sr = proof[0];
    for (const c of proof.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && same(fr, firstRoot) && same(sr, secondRoot);
  }

  // ---- the check ----------------------------------------------------------------------------
  function pins() {
    const out = {};
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      const eq = part.indexOf("=");
      if (eq > 0) {
        try { out[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1)); } catch { /* ignored */ }
      }
    }
    return out;
  }

  async function getJson(url) {
    let response;
    try { response = await fetch(url, { cache: "no-store" }); } catch (e) { throw new Failure("e_fetch", e.message); }
    if (!response.ok) throw new Failure("e_fetch", "HTTP " + response.status);
    return response.json();
  }

  // The log's key: pinned in the link, or the policy's log of the checkpoint's origin, or
  // (unpinned) the server's own.
  async function logKey(pinned, policy, origin) {
    if (pinned.key) return { log: await parseVkey(pinned.key, 1), source: "fragment" };
    if (policy) {
      const log = policy.logs.find((l) => l.name === origin);
      if (!log) throw new Failure("e_policy_log", origin);
      return { log, source: "policy" };
    }
    let vkey;
    try { vkey = await (await fetch("/v1/key", { cache: "no-store" })).text(); } catch (e) { throw new Failure("e_fetch", e.message); }
    return { log: await parseVkey(vkey, 1), source: "server" };
  }

  // Pins from the link, else those this browser remembers for the log's origin.
  function pinsFor(origin) {
    const linked = pins();
    if (linked.key || linked.policy) return { pinned: linked, remembered: false };
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem(PIN_PREFIX + origin) || "null"); } catch { kept = null; }
    return kept && (kept.key || kept.policy) ? { pinned: kept, remembered: true } : { pinned: {}, remembered: false };
  }

  async function check() {
    const report = state.report;
    if (!report || !report.evidence) throw new Failure("e_report_json");
    const base = "/v1/disclosures/" + state.index + "/evidence";
    let ev = await getJson(base);
    state.origin = String(ev.checkpoint).split("\n")[0];
    const { pinned, remembered } = pinsFor(state.origin);
    state.pins = { key: pinned.key, policy: pinned.policy };
    const policy = pinned.policy ? await parsePolicy(pinned.policy) : null;
    const chosen = await logKey(pinned, policy, state.origin);
    const log = chosen.log, source = remembered ? "remembered" : chosen.source;
    if (policy && pinned.key && !policy.logs.some((l) => l.vkey === log.vkey)) throw new Failure("e_pins_differ");
    state.key = { vkey: log.vkey, fingerprint: log.fingerprint, source };
    render();
    // 1. The latest checkpoint: signed by the key and, with a policy, cosigned by its quorum.
    const now = await openCheckpoint(ev.checkpoint, log);
    if (policy) {
      const signed = await cosigners(now, policy.witnesses);
      state.witnesses = signed;
      state.quorum = policy.quorum;
      if (!quorumHolds(policy, policy.quorum, new Set(signed.map((w) => w.name)))) {
        throw new Failure("e_quorum", signed.map((w) => w.name).join(", ") || "—");
      }
    } else {
      state.witnesses = now.sigs.filter((s) => s.blob.length === 76).map((s) => ({ name: s.name, checked: false }));
    }
    render();
    // 2. The publication entry is in it, and names the SHA-256 of the bytes on this page.
    const pub = unb64(ev.published.raw);
    const pubLeaf = await sha256(concat(new Uint8Array([0]), pub));
    if (!(await verifyInclusion(ev.published.index, now.size, pubLeaf, ev.published.proof, now.root)) || ev.published.index !== state.index) {
      throw new Failure("e_published");
    }
    const h = await sha256(utf8(state.text));
    let found = false;
    for (let i = 0; i + 32 <= pub.length && !found; i++) found = same(pub.subarray(i, i + 32), h);
    if (!found) throw new Failure("e_report_hash");
    // 3. The report's own checkpoint, consistent with the latest.
    const at = await openCheckpoint(report.evidence.checkpoint, log);
    if (!(await verifyConsistency(at.size, now.size, ev.consistency || [], at.root, now.root))) throw new Failure("e_consistency");
    // 4. Every entry in scope, page by page, in the report's tree; their digest.
    const want = report.evidence.entries;
    const leaves = [];
    for (;;) {
      for (const e of ev.entries) {
        const leaf = unhex(e.leaf);
        if (leaves.length >= want.length || Number(want[leaves.length]) !== e.index) throw new Failure("e_entries");
        if (!(await verifyInclusion(e.index, at.size, leaf, e.proof, at.root))) throw new Failure("e_entry", e.index);
        leaves.push(leaf);
      }
      state.progress = [leaves.length, want.length];
      render();
      if (ev.next === null || ev.next === undefined) break;
      ev = await getJson(base + "?start=" + ev.next);
    }
    if (leaves.length !== want.length) throw new Failure("e_entries");
    if (hex(await sha256(concat(...leaves))) !== report.evidence.entries_digest) throw new Failure("e_digest");
    return leaves.length;
  }

  async function run() {
    state.verdict = "pending";
    state.progress = null;
    state.message = null;
    state.key = null;
    state.witnesses = [];
    state.quorum = "";
    render();
    try {
      if (!state.report) throw new Failure("e_report_json");
      state.entries = await check();
      state.verdict = "valid";
    } catch (e) {
      state.verdict = "invalid";
      state.message = e instanceof Failure ? e.words : ["e_fetch", e.message];
    }
    render();
  }

  // The staff console proves payments with these same checks (web/console/lookup.js).
  const describe = (words, lang) => {
    const w = W[words[0]];
    return w ? w[lang === "en" ? 1 : 0].replace(/\{(\d)\}/g, (_, i) => String(words[1 + Number(i)])) : String(words[0]);
  };
  window.FLVerify = { parseVkey, openCheckpoint, verifyInclusion, logKey, pinsFor, parsePolicy, cosigners, quorumHolds, sha256, concat, unb64, hex, same, Failure, describe };
  const data = document.getElementById("report-data");
  if (!data) return;  // loaded by the console for its checks: no report on the page
  state.text = data.textContent;
  try { state.report = parseReport(state.text); } catch { state.report = null; }
  if (state.index > 0) run();
  else { state.verdict = "preview"; render(); }
})();
