// The staff console: log in, upload a roll and see every problem, find a person, list programs
// (the batches waiting for approval, approve / reject: checker.js). Talks to the ledger's own
// API with the session cookie; every POST carries the session's CSRF token and an
// Idempotency-Key. Chinese by default.
// Signed actions (per-person keys made in the browser at first login) are not wired here yet.
//
// Other files of web/console add panels: after this script, a panel script calls
//   FLConsole.register({ text: { zh: {...}, en: {...} }, onWork(who) {...}, onLanguage() {...} });
// `text` joins the language table (read with FLConsole.t), onWork runs after each login with the
// session, onLanguage after each switch. Panels reach the API only through FLConsole.api, so
// every POST carries the CSRF token, an Idempotency-Key and (when wired) the actor's signature.
"use strict";

const TEXT = {
  zh: {
    title: "资金台账 · 工作台", login: "登录", logout: "退出", name: "用户名", password: "密码",
    upload: "上传发放名册", fund: "资金", period: "发放月份", file: "名册文件（CSV）", send: "上传",
    download: "下载全部问题（CSV）", row: "行号", column: "列", code: "代码", problem: "问题",
    pending: "待审批批次", refresh: "刷新", batch: "批次", lines: "行数", total: "合计（元）",
    maker: "制单人", decide: "审批", approve: "批准", reject: "退回", reason: "退回原因",
    people: "查找受益人", idnumber: "身份证号", find: "查找", programs: "救助项目",
    programid: "项目编号", programname: "名称", category: "类别", switchTo: "English",
    prepared: (b, n, t) => `已生成批次 ${b}：${n} 行，合计 ${t} 元，等待另一人审批。`,
    shown: (n, all) => `（显示前 ${n} 个，共 ${all} 个；全部见下载）`,
    none: "没有待审批的批次。", approved: (b) => `批次 ${b} 已批准。`, rejected: (b) => `批次 ${b} 已退回。`,
    notFound: "没有登记这个身份证号的人员。", found: (id, n) => `受益人 ${id}（${n}）`,
    as: (a, r) => `${a}（${r}）`,
  },
  en: {
    title: "Fund ledger · Staff console", login: "Log in", logout: "Log out", name: "Name",
    password: "Password", upload: "Upload a disbursement roll", fund: "Fund", period: "Month",
    file: "Roll file (CSV)", send: "Upload", download: "Download every problem (CSV)", row: "Row",
    column: "Column", code: "Code", problem: "Problem", pending: "Batches waiting for approval",
    refresh: "Refresh", batch: "Batch", lines: "Lines", total: "Total (yuan)", maker: "Prepared by",
    decide: "Decision", approve: "Approve", reject: "Reject", reason: "Reason for rejecting",
    people: "Find a beneficiary", idnumber: "ID number", find: "Find", programs: "Programs",
    programid: "Program id", programname: "Name", category: "Category", switchTo: "中文",
    prepared: (b, n, t) => `Prepared batch ${b}: ${n} lines, ${t} yuan, waiting for another person's approval.`,
    shown: (n, all) => ` (the first ${n} of ${all}; download them all)`,
    none: "No batch waits for approval.", approved: (b) => `Batch ${b} approved.`, rejected: (b) => `Batch ${b} rejected.`,
    notFound: "No person is registered with this ID number.", found: (id, n) => `Beneficiary ${id} (${n})`,
    as: (a, r) => `${a} (${r})`,
  },
};

let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : (localStorage.getItem("fl-lang") || "zh");
let csrf = "";
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key];

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("lang").textContent = t("switchTo");
  $("lang").lang = lang === "zh" ? "en" : "zh-CN";
  document.title = t("title");
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(method, path, body, contentType = "application/json") {
  const headers = { "Accept-Language": lang === "zh" ? "zh-CN" : "en" };
  if (method === "POST") {
    headers["Content-Type"] = contentType;
    headers["X-CSRF-Token"] = csrf;
    headers["Idempotency-Key"] = body && body.idempotencyKey ? body.idempotencyKey : randomKey();
  }
  const payload = body && body.raw !== undefined ? body.raw : body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV or empty */ }
  return { status: res.status, json, text };
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

const panels = [];

async function showWork(who) {
  csrf = who.csrf_token || csrf;
  $("who").textContent = TEXT[lang].as(who.actor, who.role);
  $("login-section").hidden = true;
  $("work").hidden = false;
  $("logout").hidden = false;
  await Promise.all([loadFunds(), loadPrograms(),
    ...panels.filter((p) => p.onWork).map((p) => p.onWork(who))]);
}

async function loadFunds() {
  const r = await api("GET", "/v1/funds");
  const select = $("upload-fund");
  select.replaceChildren();
  for (const f of (r.json && r.json.funds) || []) {
    const o = document.createElement("option");
    o.value = f.fund_id;
    o.textContent = `${f.name} (${f.fund_id})`;
    select.appendChild(o);
  }
}

async function loadPrograms() {
  const r = await api("GET", "/v1/programs");
  const body = $("programs-table").tBodies[0];
  body.replaceChildren();
  for (const p of (r.json && r.json.programs) || []) {
    const row = body.insertRow();
    cell(row, p.program_id); cell(row, p.name); cell(row, p.category);
  }
}

async function sha256Hex(bytes) {
  if (!crypto.subtle) return randomKey();
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function showProblems(error) {
  const body = $("problems-table").tBodies[0];
  body.replaceChildren();
  for (const d of error.details || []) {
    const row = body.insertRow();
    cell(row, d.line ? String(d.line) : ""); cell(row, d.field || ""); cell(row, d.code); cell(row, d.message);
  }
  const total = error.details_total || 0;
  $("problems-caption").textContent =
      error.message + (total > (error.details || []).length ? TEXT[lang].shown((error.details || []).length, total) : "");
  const link = $("problems-download");
  link.hidden = !error.report;
  link.dataset.report = error.report || "";
  $("problems").hidden = false;
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const fund = $("upload-fund").value, period = $("upload-period").value.trim();
  const key = await sha256Hex(new Uint8Array([...new TextEncoder().encode(fund + "|" + period + "|"), ...bytes]));
  const query = new URLSearchParams({ fund_id: fund, period });
  const r = await api("POST", "/v1/disbursement-batches?" + query, { raw: bytes, idempotencyKey: key }, "text/csv");
  const out = $("upload-result");
  $("problems").hidden = true;
  if (r.status === 201 || r.status === 200) {
    out.className = "ok";
    out.textContent = TEXT[lang].prepared(r.json.batch_id, r.json.lines, r.json.total);
    document.dispatchEvent(new CustomEvent("fl-batches-changed"));  // checker.js lists them
  } else if (r.json && r.json.error) {
    out.className = "error";
    out.textContent = "";
    showProblems(r.json.error);
  } else {
    out.className = "error";
    out.textContent = r.text;
  }
}

async function downloadProblems(event) {
  event.preventDefault();
  const link = $("problems-download");
  const res = await fetch(link.dataset.report, { credentials: "same-origin" });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = lang === "zh" ? "名册问题.csv" : "roll-problems.csv";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function findPerson(event) {
  event.preventDefault();
  const id = $("people-id").value.trim();
  const r = await api("GET", "/v1/beneficiaries?" + new URLSearchParams({ id_number: id }));
  const out = $("people-result");
  if (r.status !== 200) {
    out.className = "error";
    out.textContent = r.json ? r.json.error.message : r.text;
  } else if (!r.json.beneficiaries.length) {
    out.className = "";
    out.textContent = t("notFound");
  } else {
    const p = r.json.beneficiaries[0];
    out.className = "ok";
    out.textContent = TEXT[lang].found(p.beneficiary_id, p.name_masked);
  }
}

async function logIn(event) {
  event.preventDefault();
  const r = await api("POST", "/v1/sessions", { name: $("login-name").value, password: $("login-password").value });
  if (r.status !== 201) {
    $("login-error").textContent = r.json ? r.json.error.message : r.text;
    return;
  }
  $("login-error").textContent = "";
  $("login-password").value = "";
  await showWork(r.json);
}

async function logOut() {
  await api("POST", "/v1/sessions/current/logout", {});
  csrf = "";
  $("work").hidden = true;
  $("logout").hidden = true;
  $("login-section").hidden = false;
  $("who").textContent = "";
  $("login-name").focus();
}

async function start() {
  applyLanguage();
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("fl-lang", lang);
    applyLanguage();
    for (const p of panels) if (p.onLanguage) p.onLanguage();
  });
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("upload-form").addEventListener("submit", upload);
  $("problems-download").addEventListener("click", downloadProblems);
  $("people-form").addEventListener("submit", findPerson);
  const now = new Date();
  $("upload-period").value = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  const me = await api("GET", "/v1/sessions/current");
  if (me.status === 200 && me.json.csrf_token) await showWork(me.json);
}

window.FLConsole = {
  api, cell, $,
  t: (key) => TEXT[lang][key],
  lang: () => lang,
  register(panel) {
    for (const l of Object.keys(TEXT)) Object.assign(TEXT[l], (panel.text && panel.text[l]) || {});
    panels.push(panel);
  },
};

// Panel scripts load after this one; they have all registered when the document is parsed.
document.addEventListener("DOMContentLoaded", start);
