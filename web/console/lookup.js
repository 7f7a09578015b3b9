// Lookups and the auditor's corner: find a person by ID number or by name (masked; the server
// records each search), their enrollments and payments in pages; fund balances now or as of a
// date; every batch, filtered by fund, month and status. For auditors (and admins): prove one
// payment in the browser, anomaly findings with the entries behind them, the search log.
//
// A payment proof is checked here, not trusted: /static/verify.js (the public page's own
// verifier, FLVerify) checks the checkpoint's signature with the log key pinned as the public
// page pins it (#key= / #policy= in the link, or remembered in this browser; else the server's
// key, said so), the inclusion of the roll entry and its approval (RFC 9162, WebCrypto
// SHA-256), and this script reads the line out of the entry's verified bytes (FlatBuffers),
// so what is shown is what the signed log holds.
"use strict";
(() => {
  const C = window.FLConsole;
  const $ = C.$, t = C.t, cell = C.cell;
  const TEXT = {
    zh: {
      lk_title: "查找受益人（身份证号或姓名）", lk_query: "身份证号或姓名（至少两个字）", lk_results: "查找结果",
      lk_id: "受益人编号", lk_name: "姓名", lk_number: "身份证号", lk_region: "地区", lk_open: "查看",
      lk_none: "没有找到。", lk_more: "结果较多，只显示前 50 个；请输入更完整的姓名。",
      lk_person: (id) => `受益人 ${id}`, lk_enrollments: "救助项目", lk_from: "起始月份", lk_to: "终止月份",
      lk_monthly: "每月金额（元）", lk_payments: "发放记录", lk_state: "状态", lk_line: "行号",
      lk_next: "下一页", lk_prove: "验证", lk_status: "人员状态",
      lk_fund: "账户", lk_month: "所属月份",
      bal_title: "账户余额", bal_asof: "截至日期（留空为当前）", bal_show: "查询", bal_bucket: "资金分户",
      bal_posted: "余额（元）", bal_available: "可用（元）", bal_total: "合计", bal_at: (n) => `截至第 ${n} 条记录`,
      hist_title: "批次历史", hist_status: "状态", hist_any: "全部", hist_show: "查询", hist_more: "更多",
      st_prepared: "待审批", st_approved: "已批准", st_rejected: "已退回",
      au_title: "审计专区", au_prove: "验证一笔发放", au_person: "受益人编号", au_month: "所属月份",
      au_program: "项目（可不填）", au_verify: "验证",
      au_ok: (p, m, a) => `验证通过：${p} 在 ${m} 的发放 ${a} 元在已签名的日志中。`,
      au_bad: (why) => `验证失败：${why}`, au_entry: (i) => `名册记录：日志第 ${i} 条`,
      au_approval: (i) => `批准记录：日志第 ${i} 条`, au_tree: (n) => `检查点：${n} 条`,
      au_key: (src, fp) => `日志公钥（${src}）指纹：${fp}`,
      src_fragment: "链接中固定", src_policy: "见证策略固定", src_remembered: "本浏览器保存", src_server: "取自本服务器，未固定",
      au_findings: "异常检查", au_run: "运行检查", au_check: "检查项", au_subject: "对象", au_detail: "说明",
      au_entries: "相关日志条目", au_found: (n) => `发现 ${n} 项。`, au_log: "查询记录", au_when: "时间",
      au_actor: "查询人", au_kind: "查询方式", au_count: "结果数", au_bundle: "审计包",
      lk_empty: "没有列出的人：在上方输入身份证号或姓名查找。", lk_noEnrollments: "没有纳入任何救助项目。",
      lk_noPayments: "还没有发放记录。", bal_empty: "选择账户后点“查询”，各分户的余额列在这里。",
      hist_empty: "没有列出的批次：选择条件后点“查询”。", au_notRun: "还没有检查结果：点“运行检查”。",
      au_none: "没有发现异常。", au_noSearches: "还没有查询记录：有人查找受益人后列在这里。",
      // What the server writes as codes: a payment's state, a person's status.
      lineStates: { pending: "待审批", paid: "已发放", returned: "已退回", reissued: "已重发", reversed: "已冲销",
        recovered: "已追回", rejected: "名册已退回" },
      personStatuses: { active: "正常", suspended: "已暂停", exited: "已退出", deceased: "已去世" },
      au_bundle_get: "下载审计包（tar）", au_bundle_text: "审计包含日志条目、哈希瓦片和签名检查点，解压后用 fundledger audit verify --bundle 目录 --vkey 公钥 离线核对。一次最多 100,000 条；更大的日志请用 fundledger audit export 导出。",
      e_line: "名册记录中找不到这一行", e_line_differs: "名册记录中的这一行与服务器所说不符",
      e_approval: "批准记录不属于这个批次", e_proof: "记录不在已签名的日志中", e_entry_index: "记录的序号不符",
      au_checks: {
        duplicate_payment: "重复发放", paid_after_death: "死亡后仍发放", paid_while_suspended: "暂停期间发放",
        paid_beyond_age_limit: "超过年龄条件发放", above_standard: "超标准发放", excluded_combination: "不能兼享的项目同时发放",
        same_person_two_regions: "同一人在两地领取", same_person_two_records: "同一身份证号多条记录",
        shared_bank_account: "多人共用银行账户", idle_balance: "资金长期闲置", negative_balance: "余额为负",
        restricted_misuse: "定向资金挪用", lottery_misuse: "彩票公益金用途不符", transfer_out_of_fund: "资金转出专户",
        charitable_below_70pct: "慈善支出低于上年收入 70%", admin_above_10pct: "管理费用超过 10%",
        disclosure_overdue: "信息公开逾期", lottery_elderly_below_55pct: "彩票公益金用于养老低于 55%",
        lottery_announcement_missing: "彩票公益金年度公告缺失",
      },
    },
    en: {
      lk_title: "Find a beneficiary (ID number or name)", lk_query: "ID number or name (two characters or more)",
      lk_results: "Results", lk_id: "Beneficiary", lk_name: "Name", lk_number: "ID number", lk_region: "Region",
      lk_open: "Open", lk_none: "Nobody found.", lk_more: "Many match; the first 50 are shown. Type more of the name.",
      lk_person: (id) => `Beneficiary ${id}`, lk_enrollments: "Programs", lk_from: "From", lk_to: "To",
      lk_monthly: "Monthly (yuan)", lk_payments: "Payments", lk_state: "State", lk_line: "Line",
      lk_next: "Next page", lk_prove: "Prove", lk_status: "Status",
      lk_fund: "Fund account", lk_month: "Month of",
      bal_title: "Fund balances", bal_asof: "As of (empty: now)", bal_show: "Show", bal_bucket: "Bucket",
      bal_posted: "Balance (yuan)", bal_available: "Available (yuan)", bal_total: "Total", bal_at: (n) => `as of entry ${n}`,
      hist_title: "Batch history", hist_status: "Status", hist_any: "Any", hist_show: "Show", hist_more: "More",
      st_prepared: "Waiting", st_approved: "Approved", st_rejected: "Rejected",
      au_title: "Auditor's corner", au_prove: "Prove one payment", au_person: "Beneficiary id", au_month: "Month",
      au_program: "Program (optional)", au_verify: "Verify",
      au_ok: (p, m, a) => `Verified: the payment of ${a} yuan to ${p} for ${m} is in the signed log.`,
      au_bad: (why) => `Verification failed: ${why}`, au_entry: (i) => `Roll entry: log entry ${i}`,
      au_approval: (i) => `Approval: log entry ${i}`, au_tree: (n) => `Checkpoint: ${n} entries`,
      au_key: (src, fp) => `Log key (${src}) fingerprint: ${fp}`,
      src_fragment: "pinned in the link", src_policy: "pinned by a witness policy", src_remembered: "remembered in this browser", src_server: "from this server, not pinned",
      au_findings: "Anomaly checks", au_run: "Run the checks", au_check: "Check", au_subject: "Subject", au_detail: "What",
      au_entries: "Entries", au_found: (n) => `${n} findings.`, au_log: "Search log", au_when: "When",
      au_actor: "Who", au_kind: "Search by", au_count: "Results", au_bundle: "Audit bundle",
      lk_empty: "Nobody listed: type an ID number or a name above.", lk_noEnrollments: "Not enrolled in any program.",
      lk_noPayments: "No payments yet.", bal_empty: "Choose a fund account and press Show: its buckets' balances are listed here.",
      hist_empty: "No batch listed: choose what to look for and press Show.", au_notRun: "No findings yet: press Run the checks.",
      au_none: "Nothing found.", au_noSearches: "No searches yet: each search for a person is listed here.",
      lineStates: { pending: "waiting for approval", paid: "paid", returned: "returned by the bank", reissued: "reissued",
        reversed: "reversed", recovered: "recovered", rejected: "roll rejected" },
      personStatuses: { active: "active", suspended: "suspended", exited: "exited", deceased: "deceased" },
      au_bundle_get: "Download the audit bundle (tar)", au_bundle_text: "The bundle holds the entries, hash tiles and signed checkpoints; unpack it and check it offline with fundledger audit verify --bundle DIR --vkey KEY. At most 100,000 entries a download; export larger logs with fundledger audit export.",
      e_line: "the line is not in the roll entry", e_line_differs: "the line in the roll entry is not what the server said",
      e_approval: "the approval entry is not this batch's", e_proof: "the entry is not in the signed log", e_entry_index: "the entry's index differs",
      au_checks: {
        duplicate_payment: "duplicate payment", paid_after_death: "paid after death", paid_while_suspended: "paid while suspended",
        paid_beyond_age_limit: "paid beyond the age limit", above_standard: "above the standard", excluded_combination: "programs that exclude each other",
        same_person_two_regions: "one person paid in two regions", same_person_two_records: "one ID number in two records",
        shared_bank_account: "a bank account shared", idle_balance: "idle balance", negative_balance: "negative balance",
        restricted_misuse: "restricted money misused", lottery_misuse: "lottery money misused", transfer_out_of_fund: "moved out of the dedicated fund",
        charitable_below_70pct: "charitable spending below 70%", admin_above_10pct: "admin costs above 10%",
        disclosure_overdue: "disclosure overdue", lottery_elderly_below_55pct: "lottery money for the elderly below 55%",
        lottery_announcement_missing: "lottery announcement missing",
      },
    },
  };
  const ID_NUMBER = /^\d{17}[\dXx]$/;
  let who = null;
  let findings = null;  // the last run's answer, redrawn in the page's language on a switch
  let findingsNote = () => {};  // redraws the line under an empty findings table

  // ---- building blocks -------------------------------------------------------------------
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "t") e.dataset.t = v, e.textContent = t(v);
      else e.setAttribute(k, v);
    }
    e.append(...children);
    return e;
  };
  const field = (id, label, input) => { input.id = id; return el("div", {}, el("label", { for: id, t: label }), input); };
  // A table that scrolls sideways on a phone rather than squeezing its columns (FLConsole.scrollable).
  const table = (id, heads) => C.scrollable(
    el("table", { id }, el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col", t: h })))), el("tbody")));
  // A status line (FLConsole.say: redrawn in the page's language on a switch).
  const say = C.say, refused = (id, r) => C.say(id, "error", C.serverText(r));
  // A failed proof's reason, by its text's key, so that the line follows a switch of language.
  const refusal = (key) => Object.assign(new Error(t(key)), { key });
  const button = (key, label, onClick, secondary = true) => {
    const b = el("button", { type: "button", class: secondary ? "secondary" : "" });
    b.textContent = t(key);
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  };
  const stateName = (s) => t("st_" + s) || s;
  // A cell of `row` that names something in the page's language (`text()`), redrawn on a switch.
  const named = (row, text) => C.draw(cell(row, text()), text);

  function buildSections() {
    const work = $("work");
    const lookup = el("section", { id: "lookup-section", "aria-labelledby": "lookup-title" },
      el("h2", { id: "lookup-title", t: "lk_title" }),
      el("form", { id: "lookup-form", class: "row" },
        field("lookup-query", "lk_query", el("input", { size: "22", required: "" })),
        el("div", {}, el("button", { type: "submit", t: "find" }))),
      el("p", { id: "lookup-result", role: "status", "aria-live": "polite" }),
      table("lookup-table", ["lk_id", "lk_name", "lk_number", "lk_region", "lk_open"]),
      el("div", { id: "person", hidden: "" },
        el("h3", { id: "person-title" }),
        el("p", { id: "person-status" }),
        table("person-enrollments", ["programid", "lk_from", "lk_to", "lk_monthly"]),
        el("h3", { t: "lk_payments" }),
        table("person-payments", ["period", "programid", "total", "batch", "lk_line", "lk_state", "lk_prove"]),
        el("p", {}, el("button", { id: "person-next", type: "button", class: "secondary", hidden: "", t: "lk_next" }))));
    const balances = el("section", { id: "balances-section", "aria-labelledby": "balances-title" },
      el("h2", { id: "balances-title", t: "bal_title" }),
      el("form", { id: "balances-form", class: "row" },
        field("balances-fund", "lk_fund", el("select", { required: "" })),
        field("balances-asof", "bal_asof", el("input", { size: "12" })),
        el("div", {}, el("button", { type: "submit", t: "bal_show" }))),
      el("p", { id: "balances-result", role: "status", "aria-live": "polite" }),
      table("balances-table", ["bal_bucket", "bal_posted", "bal_available"]));
    const history = el("section", { id: "history-section", "aria-labelledby": "history-title" },
      el("h2", { id: "history-title", t: "hist_title" }),
      el("form", { id: "history-form", class: "row" },
        field("history-fund", "lk_fund", el("select", {})),
        field("history-period", "lk_month", el("input", { size: "10" })),
        field("history-status", "hist_status", el("select", {})),
        el("div", {}, el("button", { type: "submit", t: "hist_show" }))),
      el("p", { id: "history-result", role: "status", "aria-live": "polite" }),
      table("history-table", ["batch", "fund", "period", "hist_status", "lines", "total", "maker"]),
      el("p", {}, el("button", { id: "history-more", type: "button", class: "secondary", hidden: "", t: "hist_more" })));
    const auditor = el("section", { id: "auditor-section", "aria-labelledby": "auditor-title", hidden: "" },
      el("h2", { id: "auditor-title", t: "au_title" }),
      el("h3", { t: "au_prove" }),
      el("form", { id: "prove-form", class: "row" },
        field("prove-person", "au_person", el("input", { size: "12", required: "" })),
        field("prove-month", "au_month", el("input", { size: "10", required: "" })),
        field("prove-program", "au_program", el("input", { size: "10" })),
        el("div", {}, el("button", { type: "submit", t: "au_verify" }))),
      el("p", { id: "prove-result", role: "status", "aria-live": "polite" }),
      el("ul", { id: "prove-details" }),
      el("h3", { t: "au_findings" }),
      el("p", {}, el("button", { id: "anomalies-run", type: "button", t: "au_run" })),
      el("p", { id: "anomalies-result", role: "status", "aria-live": "polite" }),
      table("anomalies-table", ["au_check", "au_subject", "au_detail", "au_entries"]),
      el("pre", { id: "anomaly-entry", hidden: "", tabindex: "0" }),
      el("h3", { t: "au_log" }),
      table("access-table", ["au_when", "au_actor", "au_kind", "au_count"]),
      el("h3", { t: "au_bundle" }),
      el("p", { t: "au_bundle_text" }),
      el("p", {}, el("button", { id: "bundle-get", type: "button", class: "secondary", t: "au_bundle_get" })),
      el("p", { id: "bundle-result", role: "status", "aria-live": "polite" }));
    work.append(lookup, balances, history, auditor);
    for (const [id, key] of [["lookup-table", "lk_empty"], ["person-enrollments", "lk_noEnrollments"],
      ["person-payments", "lk_noPayments"], ["balances-table", "bal_empty"], ["history-table", "hist_empty"],
      ["access-table", "au_noSearches"]]) {
      C.emptyNote($(id), key);
    }
    findingsNote = C.emptyNote($("anomalies-table"), () => t(findings ? "au_none" : "au_notRun"));
    // Before the forms' own submit handlers: a date is checked and written in the API's form first.
    C.dateField($("balances-asof"), "day");
    C.dateField($("history-period"), "month");
    C.dateField($("prove-month"), "month");
    $("lookup-form").addEventListener("submit", findPeople);
    $("balances-form").addEventListener("submit", showBalances);
    $("history-form").addEventListener("submit", (e) => { e.preventDefault(); showHistory(""); });
    $("history-more").addEventListener("click", () => showHistory($("history-more").dataset.after));
    $("prove-form").addEventListener("submit", (e) => { e.preventDefault(); prove($("prove-person").value.trim(), $("prove-month").value.trim(), $("prove-program").value.trim()); });
    $("anomalies-run").addEventListener("click", showAnomalies);
    $("bundle-get").addEventListener("click", downloadBundle);
  }

  // ---- people ----------------------------------------------------------------------------
  async function findPeople(event) {
    event.preventDefault();
    const q = $("lookup-query").value.trim();
    const query = ID_NUMBER.test(q) ? { id_number: q.toUpperCase() } : { q };
    const r = await C.api("GET", "/v1/beneficiaries?" + new URLSearchParams(query));
    const body = $("lookup-table").tBodies[0];
    body.replaceChildren();
    $("person").hidden = true;
    if (r.status !== 200) return refused("lookup-result", r);
    const people = r.json.beneficiaries;
    say("lookup-result", "", !people.length ? "lk_none" : r.json.more ? "lk_more" : "");
    for (const p of people) {
      const row = body.insertRow();
      row.dataset.person = p.beneficiary_id;
      cell(row, p.beneficiary_id); cell(row, p.name_masked); cell(row, p.id_number_masked); cell(row, p.region_code || "");
      cell(row, "").append(button("lk_open", `${t("lk_open")} ${p.beneficiary_id}`, () => openPerson(p)));
    }
    if (people.length === 1) await openPerson(people[0]);
  }

  async function openPerson(p) {
    const r = await C.api("GET", "/v1/beneficiaries/" + encodeURIComponent(p.beneficiary_id));
    if (r.status !== 200) return refused("lookup-result", r);
    $("person").hidden = false;
    C.draw("person-title", () => `${t("lk_person")(p.beneficiary_id)} · ${p.name_masked}`);
    const last = r.json.status_changes.slice(-1)[0];
    C.draw("person-status", last && (() => `${t("lk_status")}: ${t("personStatuses")[last.status] || last.status} (${last.effective_date})`));
    const body = $("person-enrollments").tBodies[0];
    body.replaceChildren();
    for (const e of r.json.enrollments) {
      const row = body.insertRow();
      cell(row, e.program_id); cell(row, e.from); cell(row, e.to || "—"); cell(row, e.monthly_amount || "");
    }
    $("person-payments").tBodies[0].replaceChildren();
    await showPayments(p.beneficiary_id, 0);
  }

  async function showPayments(id, start) {
    const r = await C.api("GET", `/v1/beneficiaries/${encodeURIComponent(id)}/payments?start=${start}`);
    if (r.status !== 200) return refused("lookup-result", r);
    const body = $("person-payments").tBodies[0];
    for (const p of r.json.payments) {
      const row = body.insertRow();
      cell(row, p.period); cell(row, p.program_id); cell(row, p.amount || p.paid);
      cell(row, p.batch_id || "—"); cell(row, p.line_no ? String(p.line_no) : "—");
      named(row, () => t("lineStates")[p.state] || p.state || "");
      const td = cell(row, "");
      if (p.approved_index !== undefined && (who.role === "auditor" || who.role === "admin")) {
        td.append(button("lk_prove", `${t("lk_prove")} ${p.period} ${p.program_id}`, () => prove(id, p.period, p.program_id)));
      }
    }
    const next = $("person-next");
    next.hidden = r.json.next === null;
    next.onclick = () => showPayments(id, r.json.next);
  }

  // ---- balances and batches --------------------------------------------------------------
  async function loadFunds() {
    const r = await C.api("GET", "/v1/funds");
    const funds = (r.json && r.json.funds) || [];
    for (const [id, any] of [["balances-fund", false], ["history-fund", true]]) {
      const select = $(id);
      select.replaceChildren();
      if (any) select.append(el("option", { value: "", t: "hist_any" }));
      for (const f of funds) select.append(el("option", { value: f.fund_id }, `${f.name} (${f.fund_id})`));
    }
    const status = $("history-status");
    status.replaceChildren(el("option", { value: "", t: "hist_any" }),
      ...["prepared", "approved", "rejected"].map((s) => C.draw(el("option", { value: s }), () => stateName(s))));
  }

  async function showBalances(event) {
    if (event) event.preventDefault();
    const query = { fund_id: $("balances-fund").value };
    if ($("balances-asof").value) query.as_of = $("balances-asof").value;
    const r = await C.api("GET", "/v1/balances?" + new URLSearchParams(query));
    const body = $("balances-table").tBodies[0];
    body.replaceChildren();
    if (r.status !== 200) return refused("balances-result", r);
    say("balances-result", "", "bal_at", r.json.as_of_index);
    for (const [bucket, b] of Object.entries(r.json.buckets)) {
      const row = body.insertRow();
      cell(row, bucket); cell(row, b.posted); cell(row, b.available || "");
    }
    const row = body.insertRow();
    named(row, () => t("bal_total")); cell(row, r.json.total.posted); cell(row, r.json.total.available || "");
  }

  async function showHistory(after) {
    const query = {};
    for (const [k, id] of [["fund_id", "history-fund"], ["period", "history-period"], ["status", "history-status"]]) {
      if ($(id).value.trim()) query[k] = $(id).value.trim();
    }
    if (after) query.after = after;
    const r = await C.api("GET", "/v1/disbursement-batches?" + new URLSearchParams(query));
    const body = $("history-table").tBodies[0];
    if (!after) body.replaceChildren();
    if (r.status !== 200) return refused("history-result", r);
    say("history-result", "", "");
    for (const b of r.json.batches) {
      const row = body.insertRow();
      cell(row, b.batch_id); cell(row, b.fund_id); cell(row, b.period); named(row, () => stateName(b.status));
      cell(row, String(b.line_count)); cell(row, b.total); cell(row, b.maker);
    }
    const more = $("history-more");
    more.hidden = !r.json.more;
    if (r.json.batches.length) more.dataset.after = r.json.batches[r.json.batches.length - 1].batch_id;
  }

  // ---- proving a payment in the browser ---------------------------------------------------
  // A FlatBuffers table reader over verified bytes; a read outside them throws (DataView).
  function flatTable(bytes, pos) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const vt = pos - dv.getInt32(pos, true), vtSize = dv.getUint16(vt, true);
    const at = (i) => (4 + 2 * i < vtSize ? dv.getUint16(vt + 4 + 2 * i, true) : 0);
    const ref = (i) => { const f = at(i); if (!f) throw new Error("absent field " + i); const p = pos + f; return p + dv.getUint32(p, true); };
    const str = (p) => new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(p + 4, p + 4 + dv.getUint32(p, true)));
    return {
      dv,
      u16: (i) => (at(i) ? dv.getUint16(pos + at(i), true) : 0),
      u64: (i) => (at(i) ? dv.getBigUint64(pos + at(i), true) : 0n),
      string: (i) => str(ref(i)),
      vector: (i) => { const p = ref(i); return { length: dv.getUint32(p, true), start: p + 4 }; },
      stringAt: (v, k) => { const e = v.start + 4 * k; return str(e + dv.getUint32(e, true)); },
    };
  }
  const flatRoot = (bytes) => flatTable(bytes, new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true));
  // entry.fbs: Entry {index 0, ..., event_type 6, payload 7}; EventType values.
  const PREPARED = 14, APPROVED = 15;
  function payloadOf(raw, index, type) {
    const entry = flatRoot(raw);
    if (entry.u64(0) !== BigInt(index)) throw refusal("e_entry_index");
    if (entry.u16(6) !== type) throw new Error(type === APPROVED ? t("e_approval") : t("e_line"));
    const v = entry.vector(7);
    return flatRoot(raw.subarray(v.start, v.start + v.length));
  }
  // DisbursementBatchPrepared {batch_id 0, beneficiary_ids 7, program_ids 8, lines 9};
  // DisbursementLine {line_no u32, beneficiary u32, program u32, period i32, amount_fen i64}.
  function lineIn(roll, lineNo) {
    const lines = roll.vector(9), ids = roll.vector(7), programs = roll.vector(8);
    for (let k = 0; k < lines.length; k++) {
      const p = lines.start + 24 * k, dv = roll.dv;
      if (dv.getUint32(p, true) !== lineNo) continue;
      return {
        batch: roll.string(0), beneficiary: roll.stringAt(ids, dv.getUint32(p + 4, true)),
        program: roll.stringAt(programs, dv.getUint32(p + 8, true)), period: dv.getInt32(p + 12, true),
        amountFen: dv.getBigInt64(p + 16, true),
      };
    }
    throw refusal("e_line");
  }

  async function proveEntry(V, cp, e) {
    const raw = V.unb64(e.raw);
    const leaf = await V.sha256(V.concat(new Uint8Array([0]), raw));
    if (!(await V.verifyInclusion(e.index, cp.size, leaf, e.proof, cp.root))) throw refusal("e_proof");
    return raw;
  }

  async function prove(person, month, program) {
    const V = window.FLVerify;
    $("prove-person").value = person; $("prove-month").value = month; $("prove-program").value = program || "";
    const details = $("prove-details");
    details.replaceChildren();
    const query = { beneficiary_id: person, period: month };
    if (program) query.program_id = program;
    const r = await C.api("GET", "/v1/payment-proofs?" + new URLSearchParams(query));
    if (r.status !== 200) return refused("prove-result", r);
    const { payment, entry, approval, checkpoint } = r.json;
    try {
      const origin = checkpoint.split("\n")[0];
      const { pinned, remembered } = V.pinsFor(origin);
      const policy = pinned.policy ? await V.parsePolicy(pinned.policy) : null;
      const chosen = await V.logKey(pinned, policy, origin);
      const cp = await V.openCheckpoint(checkpoint, chosen.log);
      if (policy && !V.quorumHolds(policy, policy.quorum, new Set((await V.cosigners(cp, policy.witnesses)).map((w) => w.name)))) {
        throw new V.Failure("e_quorum", "—");
      }
      const raw = await proveEntry(V, cp, entry);
      const line = lineIn(payloadOf(raw, entry.index, PREPARED), payment.line_no);
      const period = Number(month.replace("-", ""));
      if (line.beneficiary !== person || line.program !== payment.program_id || line.period !== period ||
          line.batch !== payment.batch_id || line.amountFen !== BigInt(payment.amount_fen)) throw refusal("e_line_differs");
      if (!approval) throw refusal("e_approval");
      const approvalRaw = await proveEntry(V, cp, approval);
      if (payloadOf(approvalRaw, approval.index, APPROVED).string(0) !== payment.batch_id) throw refusal("e_approval");
      say("prove-result", "ok", "au_ok", person, month, payment.amount);
      const source = remembered ? "remembered" : chosen.source;
      for (const [key, ...params] of [["au_entry", entry.index], ["au_approval", approval.index], ["au_tree", String(cp.size)],
                                      ["au_key", () => t("src_" + source), chosen.log.fingerprint]]) {
        details.append(C.draw(el("li"), key, ...params));
      }
    } catch (e) {
      const why = e instanceof V.Failure ? () => V.describe(e.words, C.lang()) : e.key ? () => t(e.key) : e.message;
      say("prove-result", "error", "au_bad", why);
    }
  }

  // ---- anomalies and the search log --------------------------------------------------------
  async function showAnomalies() {
    say("anomalies-result", "", () => "…");
    const r = await C.api("GET", "/v1/anomalies");
    clearFindings();
    if (r.status !== 200) return refused("anomalies-result", r);
    findings = r.json;
    drawFindings();
    findingsNote();
  }

  function clearFindings() {
    findings = null;
    $("anomalies-table").tBodies[0].replaceChildren();
    findingsNote();
  }

  function drawFindings() {
    const body = $("anomalies-table").tBodies[0];
    body.replaceChildren();
    say("anomalies-result", "", "au_found", findings.total);
    for (const f of findings.findings) {
      const row = body.insertRow();
      const name = t("au_checks")[f.check];  // the check by its name in the page's language, its code beside
      cell(row, !name ? f.check : C.lang() === "zh" ? `${name}（${f.check}）` : `${name} (${f.check})`);
      cell(row, f.subject);
      cell(row, C.inPageLanguage(f, "detail")).className = "wide";
      const td = cell(row, "");
      td.className = "wide";
      for (const i of f.entries.slice(0, 20)) {
        const b = el("button", { type: "button", class: "secondary", "aria-label": `${t("au_entries")} ${i}` }, String(i));
        b.addEventListener("click", () => showEntry(i));
        td.append(b, " ");
      }
    }
  }

  async function showEntry(index) {
    const r = await C.api("GET", "/v1/entries/" + index);
    const pre = $("anomaly-entry");
    pre.hidden = false;
    if (r.status !== 200) return C.draw(pre, C.serverText(r));
    const { raw, ...view } = r.json;
    C.draw(pre, "").textContent = JSON.stringify(view, null, 2).slice(0, 20000);
    pre.focus();
  }

  async function downloadBundle() {
    say("bundle-result", "", () => "…");
    const asked = C.acceptLanguage();
    const res = await fetch("/v1/audit-bundle", { credentials: "same-origin", headers: { "Accept-Language": asked } });
    if (!res.ok) return refused("bundle-result", { json: await res.json().catch(() => null), text: "HTTP " + res.status, asked });
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: `audit-bundle-${res.headers.get("Fundledger-Log-Size")}.tar` });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("bundle-result", "", "");
  }

  async function showAccessLog() {
    const r = await C.api("GET", "/v1/access-log?lines=50");
    const body = $("access-table").tBodies[0];
    body.replaceChildren();
    if (r.status !== 200) return;
    for (const line of r.text.split("\n").filter((l) => l).reverse()) {
      const a = JSON.parse(line), row = body.insertRow();
      named(row, () => new Date(a.ts_ms).toLocaleString(C.lang() === "en" ? "en" : "zh-CN"));
      named(row, () => t("as")(a.actor, a.role)); named(row, () => t(a.search === "name" ? "lk_name" : "lk_number"));
      cell(row, String(a.results));
    }
  }

  C.register({
    text: TEXT,
    async onWork(session) {
      who = session;
      if (!$("lookup-section")) buildSections();
      clearFindings();  // another person's run is not shown to the next
      if ($("people-section")) $("people-section").hidden = true;  // by ID number only: this finds both
      const auditor = who.role === "auditor" || who.role === "admin";
      $("lookup-section").hidden = who.role === "auditor" || who.role === "charity";
      $("history-section").hidden = who.role === "charity";
      $("auditor-section").hidden = !auditor;
      await loadFunds();
      if (auditor) await showAccessLog();
    },
    onLanguage() {
      for (const e of document.querySelectorAll("#work [data-t]")) e.textContent = t(e.dataset.t);
      if (findings && !$("auditor-section").hidden) drawFindings();
    },
  });
})();
