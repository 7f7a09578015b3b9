// The staff console: log in, upload a roll and see every problem, find a person, list programs,
// and (for an admin) the staff accounts and their signing keys; the batches waiting for approval
// and the decision on them are checker.js's.
// Talks to the ledger's own API with the session cookie; every POST carries the session's CSRF
// token and an Idempotency-Key. Chinese by default.
//
// Signed actions (ledger/actor_keys.h): at a person's first login in a browser, the console makes
// an Ed25519 key pair with WebCrypto, the private key non-extractable, kept in this browser's
// IndexedDB under the log's origin and the person's name, and hands the public key in
// (POST /v1/sessions/current/key). It signs nothing an admin has not registered: once the key is
// registered (an admin's ActorKeyRegistered entry), every command POST carries the
// Fundledger-Signature header over the exact request (the event type from the route's x-event
// in /v1/openapi.json).
//
// Other files of web/console add panels: after this script, a panel script calls
//   FLConsole.register({ text: { zh: {...}, en: {...} }, onWork(who) {...}, onLanguage() {...} });
// `text` joins the language table (read with FLConsole.t), onWork runs after each login with the
// session, onLanguage after each switch. Panels reach the API only through FLConsole.api, so
// every POST carries the CSRF token, an Idempotency-Key and the actor's signature.
// FLConsole.filePicker(input) draws a file input in the page's language (its button and the
// chosen file's name), the input itself still the control Tab reaches.
// FLConsole.dateField(input, "day" | "month") makes a date or month field that shows and takes
// dates as the page's language writes them; FLConsole.scrollable(table) puts a table in a box
// that scrolls sideways on a narrow screen, named and reached by Tab while it is too narrow for
// its table; FLConsole.emptyNote(table, key) says under a table, while it has no row, that it is
// empty and what would fill it.
// FLConsole.showProblems(prefix, error, names) shows every problem of a rejected upload (the
// error of api/roll_report.h) in the page's `${prefix}` block, redrawn in the page's language
// when it changes, and downloads them as .xlsx. FLConsole.inPageLanguage(o) is the text of an
// answer that carries `translations` (api/roll_report.h) in the page's language.
// FLConsole.say(line, kind, key, ...params) writes a status line (after an upload, a decision, a
// log-in, a search) as a text's key and parameters, so that a switch of language redraws it;
// FLConsole.draw the same without its "ok"/"error" mark, FLConsole.serverText(r) what the server
// answered as such a parameter. FLConsole.cell writes a table cell whose codes (check ids, batch
// ids) wrap only after their separators.
"use strict";

const TEXT = {
  zh: {
    title: "资金台账 · 工作台", login: "登录", logout: "退出", name: "用户名", password: "密码",
    upload: "上传发放名册", fund: "资金", period: "发放月份", file: "名册文件（CSV 或 Excel）", send: "上传",
    chooseFile: "选择文件", noFile: "未选择文件",
    download: "下载全部问题（Excel）", downloadCsv: "CSV 格式", row: "行号", column: "列", code: "代码", problem: "问题",
    pending: "待审批批次", refresh: "刷新", batch: "批次", lines: "行数", total: "合计（元）",
    maker: "制单人", decide: "审批", approve: "批准", reject: "退回", reason: "退回原因",
    people: "查找受益人", idnumber: "身份证号", find: "查找", programs: "救助项目",
    programid: "项目编号", programname: "名称", category: "类别", switchTo: "English",
    prepared: (b, n, t) => `已生成批次 ${b}：${n} 行，合计 ${t} 元，等待另一人审批。`,
    shown: (n, all) => `（显示前 ${n} 个，共 ${all} 个；全部见下载）`,
    approved: (b) => `批次 ${b} 已批准。`, rejected: (b) => `批次 ${b} 已退回。`,
    notFound: "没有登记这个身份证号的人员。", found: (id, n) => `受益人 ${id}（${n}）`,
    as: (a, r) => `${a}（${TEXT.zh.roles[r] || r}）`,
    roles: { admin: "管理员", maker: "经办人", checker: "审核人", auditor: "审计人员", charity: "慈善组织" },
    keyEnrolling: (id) => `本浏览器的签名密钥 ${id} 等待管理员登记：台账只接受签名的操作，登记之前在这里提交的都会被拒绝。请把这个编号告诉管理员核对。`,
    keyEnrollingAdmin: (id) => `本浏览器的签名密钥 ${id} 尚未登记：台账只接受签名的操作，登记之前在这里提交的都会被拒绝。请另一位密钥已登记的管理员在“工作人员账户与签名密钥”中登记，或在服务器上用 scripts/register-browser-key 登记，并核对这个编号。`,
    keyRegistered: (id) => `签名密钥 ${id} 已登记`,
    keyUnsupported: "此浏览器不能生成 Ed25519 签名密钥，而台账只接受签名的操作：请换用新版 Chrome、Edge 或 Firefox。",
    emptyPrograms: "还没有救助项目：管理员定义项目后列在这里。",
    accounts: "工作人员账户与签名密钥", role: "角色", state: "状态", key: "签名密钥", action: "操作",
    active: "正常", disabled: "已停用", locked: "已锁定", noKey: "未提交",
    keyWaiting: (id) => `${id}（待登记）`, keyDone: (id) => `${id}（已登记）`,
    noXlsx: "这个工作台没有安装 Excel 读取组件，请另存为 CSV 后上传。",
    badXlsx: "无法读取这个 Excel 文件：请确认是 .xlsx 格式（不是 .xls），或另存为 CSV 后上传。",
    registerKey: "登记密钥", keyRegisteredFor: (n, id) => `已为 ${n} 登记签名密钥 ${id}。`,
    create: "新建账户", created: (n) => `已建立账户 ${n}。`,
    required: "请填写这一项。",
    dayHint: "如 2026-03-31", monthHint: "如 2026-02",
    badDay: (v) => `“${v}”不是有效日期：请按 年-月-日 填写，如 2026-03-31 或 2026年3月31日。`,
    badMonth: (v) => `“${v}”不是有效月份：请按 年-月 填写，如 2026-02 或 2026年2月。`,
    refused: (what, field) => `服务器拒绝：${what}${field ? `（${field}）` : ""}。`,
  },
  en: {
    title: "Fund ledger · Staff console", login: "Log in", logout: "Log out", name: "Name",
    password: "Password", upload: "Upload a disbursement roll", fund: "Fund", period: "Month",
    file: "Roll file (CSV or Excel)", chooseFile: "Choose a file", noFile: "No file chosen", send: "Upload", download: "Download every problem (Excel)", downloadCsv: "as CSV", row: "Row",
    column: "Column", code: "Code", problem: "Problem", pending: "Batches waiting for approval",
    refresh: "Refresh", batch: "Batch", lines: "Lines", total: "Total (yuan)", maker: "Prepared by",
    decide: "Decision", approve: "Approve", reject: "Reject", reason: "Reason for rejecting",
    people: "Find a beneficiary", idnumber: "ID number", find: "Find", programs: "Programs",
    programid: "Program id", programname: "Name", category: "Category", switchTo: "中文",
    prepared: (b, n, t) => `Prepared batch ${b}: ${n} lines, ${t} yuan, waiting for another person's approval.`,
    shown: (n, all) => ` (the first ${n} of ${all}; download them all)`,
    approved: (b) => `Batch ${b} approved.`, rejected: (b) => `Batch ${b} rejected.`,
    notFound: "No person is registered with this ID number.", found: (id, n) => `Beneficiary ${id} (${n})`,
    as: (a, r) => `${a} (${TEXT.en.roles[r] || r})`,
    roles: { admin: "admin", maker: "maker", checker: "checker", auditor: "auditor", charity: "charity" },
    keyEnrolling: (id) => `This browser's signing key ${id} waits for an admin to register it: this ledger takes only signed actions, so what you submit here is refused until then. Tell the admin this id to compare.`,
    keyEnrollingAdmin: (id) => `This browser's signing key ${id} is not registered yet: this ledger takes only signed actions, so what you submit here is refused until it is. Ask another admin whose key is registered to register it under "Staff accounts and signing keys", or register it on the server with scripts/register-browser-key; compare this id.`,
    keyRegistered: (id) => `Signing key ${id} registered`,
    keyUnsupported: "This browser cannot make an Ed25519 signing key and this ledger takes only signed actions: use a current Chrome, Edge or Firefox.",
    emptyPrograms: "No programs yet: they are listed here once an admin defines them.",
    accounts: "Staff accounts and signing keys", role: "Role", state: "State", key: "Signing key", action: "Action",
    active: "active", disabled: "disabled", locked: "locked", noKey: "none handed in",
    keyWaiting: (id) => `${id} (waiting)`, keyDone: (id) => `${id} (registered)`,
    noXlsx: "This console has no Excel reader installed: save the sheet as CSV and upload that.",
    badXlsx: "This Excel file cannot be read: it must be .xlsx (not .xls); or save it as CSV.",
    registerKey: "Register key", keyRegisteredFor: (n, id) => `Registered signing key ${id} for ${n}.`,
    create: "Create the account", created: (n) => `Account ${n} created.`,
    required: "Please fill in this field.",
    dayHint: "e.g. 2026-03-31", monthHint: "e.g. 2026-02",
    badDay: (v) => `"${v}" is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31.`,
    badMonth: (v) => `"${v}" is not a month: write it as YYYY-MM, e.g. 2026-02.`,
    refused: (what, field) => `The server refused: ${what}${field ? ` (${field})` : ""}.`,
  },
};

// Names for what the server writes as codes: problem codes, columns, program categories.
const NAMES = {
  zh: {
    codes: {
      invalid_argument: "格式有误", unknown_beneficiary: "未登记的受益人", unknown_program: "没有这个项目",
      unknown_fund: "没有这个资金", duplicate_payment: "重复发放", duplicate_line_no: "行号重复",
      over_cap: "超过标准上限", above_enrolled_amount: "超过核定金额", deceased: "人员已去世",
      not_active: "人员非正常状态", not_enrolled: "未纳入项目", age_limit: "不符合年龄条件",
      excluded_combination: "项目不能兼享", program_not_allowed: "资金不能发放此项目",
      program_not_effective: "项目标准未生效", beneficiary_erased: "个人信息已删除",
      period_ahead: "月份超前", one_off_limit: "一次性发放超限", insufficient_funds: "资金余额不足",
      fund_closed: "资金已关闭", amount_overflow: "金额超出范围", lines_rejected: "名册有问题行",
      conflict: "与台账记录不符", not_found: "没有找到",
      unauthenticated: "没有登录、登录已过期或用户名密码不对", permission_denied: "你的角色不能做这项操作",
      too_large: "内容超过允许的大小", rule_violation: "台账规则不允许", overloaded: "服务器正忙，请稍后再试",
      corruption: "台账数据校验不通过", io_error: "服务器磁盘或系统出错", internal: "服务器内部错误",
    },
    fields: {
      amount: "金额", amount_fen: "金额", period: "发放月份", beneficiary_id: "受益人编号",
      program_id: "项目", id_number: "身份证号", name: "姓名", line: "整行", line_no: "行号",
      status: "状态", account: "账号", reference: "参考号",
    },
    categories: {
      dibao: "低保", tekun: "特困供养", temporary: "临时救助", medical: "医疗救助",
      disability_living: "残疾人生活补贴", disability_care: "重度残疾人护理补贴",
      elderly_allowance: "高龄津贴", orphan: "孤儿基本生活费", lottery_project: "彩票公益金项目",
      charity_project: "慈善项目", other: "其他",
    },
  },
  en: {
    codes: {
      invalid_argument: "malformed", unknown_beneficiary: "person not registered", unknown_program: "no such program",
      unknown_fund: "no such fund", duplicate_payment: "paid twice", duplicate_line_no: "line number repeated",
      over_cap: "above the program's cap", above_enrolled_amount: "above the enrolled amount", deceased: "person deceased",
      not_active: "person not active", not_enrolled: "not enrolled in the program", age_limit: "outside the age limits",
      excluded_combination: "programs that exclude each other", program_not_allowed: "fund may not pay this program",
      program_not_effective: "no standard in force", beneficiary_erased: "personal data erased",
      period_ahead: "month too far ahead", one_off_limit: "one-off paid too often", insufficient_funds: "not enough money in the fund",
      fund_closed: "fund closed", amount_overflow: "amount out of range", lines_rejected: "roll has bad lines",
      conflict: "differs from the ledger", not_found: "not found",
      unauthenticated: "not logged in, the session expired, or a wrong name or password",
      permission_denied: "your role may not do this", too_large: "larger than allowed",
      rule_violation: "a ledger rule forbids it", overloaded: "the server is busy: try again",
      corruption: "the ledger's data fails its checks", io_error: "the server's disk or system failed",
      internal: "an error inside the server",
    },
    fields: {
      amount: "amount", amount_fen: "amount", period: "month", beneficiary_id: "beneficiary", program_id: "program",
      id_number: "ID number", name: "name", line: "whole line", line_no: "line number", status: "status",
      account: "account", reference: "reference",
    },
    categories: {
      dibao: "minimum living allowance", tekun: "extreme-poverty support", temporary: "temporary assistance",
      medical: "medical assistance", disability_living: "disability living allowance",
      disability_care: "severe-disability care allowance", elderly_allowance: "old-age allowance",
      orphan: "orphan living allowance", lottery_project: "welfare-lottery project",
      charity_project: "charity project", other: "other",
    },
  },
};
const named = (table, code) => (code && NAMES[lang][table][code]) || code || "";

let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : (localStorage.getItem("fl-lang") || "zh");
let csrf = "";
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key];

// What redraws each field the page draws in its language (filePicker's file name, dateField's
// hint and error, the lines `say` writes) when the language changes.
const languageRedraws = [];

// Text `key` of the language table (FLConsole.t) with `params`, in the page's language. `key` may
// instead be a function giving the text (a panel's own table), and a parameter that is a function
// is called at each drawing too (what the server said: serverText).
function render(key, params) {
  const entry = typeof key === "function" ? key() : t(key);
  return typeof entry === "function" ? entry(...params.map((p) => (typeof p === "function" ? p() : p))) : entry || "";
}

// What each line the page writes a message on (a status after an upload, a decision, a log-in, a
// search...) says: its text's key and parameters, not the text, drawn again after each switch.
const spoken = new Map();  // element -> {key, params}

// `el` (an element or its id) says `key` with `params` (render), in the page's language now and
// after every switch of it; `key` "" empties it.
function draw(el, key, ...params) {
  if (typeof el === "string") el = $(el);
  if (!key) spoken.delete(el);
  else spoken.set(el, { key, params });
  el.textContent = key ? render(key, params) : "";
  return el;
}

// draw, the line marked as `kind`: "ok", "error" or "" (plain).
function say(el, kind, key, ...params) {
  draw(el, key, ...params).className = kind;
}

languageRedraws.push(() => {
  for (const [el, { key, params }] of spoken) {
    if (el.isConnected) el.textContent = render(key, params);
    else spoken.delete(el);  // a line in a part of the page since replaced
  }
});

// A file field in the page's language. The browser draws a file input's button and "no file"
// text in its own locale, whatever the page's switch says, so the input is kept (Tab, Space
// and screen readers reach it as before) but drawn as a label that opens it and the chosen
// file's name beside it.
function filePicker(input) {
  input.classList.add("file-input");
  input.parentElement.classList.add("file-field");
  const button = document.createElement("label");
  button.htmlFor = input.id;
  button.className = "file-button";
  button.dataset.t = "chooseFile";
  button.textContent = t("chooseFile");
  const name = document.createElement("span");
  name.className = "file-name";
  const show = () => { name.textContent = input.files.length ? input.files[0].name : t("noFile"); };
  input.addEventListener("change", show);
  input.after(button, name);
  languageRedraws.push(show);
  show();
}

// A date (kind "day": YYYY-MM-DD) or a month ("month": YYYY-MM) as people here write one:
// 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日; 2026-03, 2026/3, 202603, 2026年3月. The API's
// form, or null when `text` is not a real date or month.
const DATE_SHAPES = {
  day: /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/,
  month: /^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))$/,
};
function dateFromText(kind, text) {
  const m = DATE_SHAPES[kind].exec(text.trim());
  if (!m) return null;
  const year = Number(m[1]), month = Number(m[2] || m[3]), day = kind === "day" ? Number(m[3]) : 1;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  const ym = `${m[1]}-${String(month).padStart(2, "0")}`;
  return kind === "day" ? `${ym}-${String(day).padStart(2, "0")}` : ym;
}

// A date or month field in the page's language. A browser's own date field draws its locale's
// order (mm/dd/yyyy) whatever the page's language, so this is a text field with a hint in the
// page's language that takes what dateFromText reads, writes the value back in the API's form
// before its form's own submit handler runs, and for anything else stops the submit and says
// what is wrong beside the field (linked by aria-describedby), in the page's language, until
// the field is typed in again.
function dateField(input, kind) {
  input.type = "text";
  input.autocomplete = "off";
  input.size = kind === "day" ? 16 : 13;  // the hint in either language, unclipped
  const error = document.createElement("p");
  error.id = input.id + "-error";
  error.className = "error field-error";
  error.hidden = true;
  input.after(error);
  input.setAttribute("aria-describedby", error.id);
  let wrong = "";  // the value refused, "" when none
  const show = () => {
    input.placeholder = t(kind === "day" ? "dayHint" : "monthHint");
    error.textContent = wrong ? TEXT[lang][kind === "day" ? "badDay" : "badMonth"](wrong) : "";
    error.hidden = !wrong;
    if (wrong) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  // Reads the field; true when it is empty or a date, now written in the API's form.
  const check = () => {
    const text = input.value.trim(), value = text ? dateFromText(kind, text) : "";
    wrong = value === null ? text : "";
    if (value) input.value = value;
    show();
    return !wrong;
  };
  // Checked at submit only: an error appearing as the field loses focus would move the button
  // the pointer is pressing, and the click would be lost. Typing clears it.
  input.addEventListener("input", () => { if (wrong) { wrong = ""; show(); } });
  input.form.addEventListener("submit", (event) => {  // registered first, so it runs first
    if (check()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    input.focus();
  });
  languageRedraws.push(show);
  show();
}

// The browser's "fill in this field" bubble speaks the browser's language: this one the page's.
function requiredInPageLanguage() {
  document.addEventListener("invalid", (event) => {
    if (event.target.validity.valueMissing) event.target.setCustomValidity(t("required"));
  }, true);
  const clear = (event) => { if (event.target.setCustomValidity) event.target.setCustomValidity(""); };
  document.addEventListener("input", clear, true);
  document.addEventListener("change", clear, true);
}

// `table` in a box of its own that scrolls sideways when the table is wider than the screen (at
// phone width its first, key, column kept in sight: index.html's .table-scroll), so the page
// itself never scrolls sideways on a phone. The box takes the table's place, if it has one, and
// is returned.
function scrollable(table) {
  if (table.parentElement && table.parentElement.classList.contains("table-scroll")) return table.parentElement;
  const box = document.createElement("div");
  box.className = "table-scroll";
  if (table.parentElement) table.before(box);
  box.append(table);
  const fit = () => keyboardScrollable(box);
  const watch = new ResizeObserver(fit);  // the screen narrowed, the table grew, the box was shown
  watch.observe(box);
  watch.observe(table);
  return box;
}

// The heading a box sits under: the nearest h2-h4 before it in its section, or null.
function headingBefore(node) {
  for (let at = node; at && at.tagName !== "SECTION" && at.tagName !== "MAIN"; at = at.parentElement) {
    for (let sibling = at.previousElementSibling; sibling; sibling = sibling.previousElementSibling) {
      if (/^H[2-4]$/.test(sibling.tagName)) return sibling;
    }
  }
  return null;
}

// A scroll box is a group named by its table's caption or the heading above it (so a screen
// reader says which table it is in, in the page's language, since the name is that text; a group
// and not a region, whose landmark would repeat its section's), and while its table is wider than
// it, the box is in the Tab order, so arrow keys scroll it.
function keyboardScrollable(box) {
  if (!box.hasAttribute("aria-labelledby")) {
    const name = box.querySelector("caption") || headingBefore(box);
    if (name) {
      if (!name.id) name.id = (box.querySelector("table").id || "table") + "-name";
      box.setAttribute("role", "group");
      box.setAttribute("aria-labelledby", name.id);
    }
  }
  if (box.scrollWidth > box.clientWidth + 1) box.tabIndex = 0;
  else box.removeAttribute("tabindex");
}

// A line under `table` while its body has no row: that there is nothing yet and what would fill
// it, in the page's language. `key` names the text (FLConsole.t), or is a function returning it;
// what is returned redraws the line (it follows the rows by itself, not a change of `key`).
function emptyNote(table, key) {
  const box = scrollable(table);
  const note = document.createElement("p");
  note.className = "empty-note";
  note.id = (table.id || "table") + "-empty";
  box.after(note);
  const show = () => {
    note.hidden = table.tBodies[0].rows.length > 0;
    note.textContent = typeof key === "function" ? key() : t(key);
  };
  new MutationObserver(show).observe(table.tBodies[0], { childList: true });
  languageRedraws.push(show);
  show();
  return show;
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const redraw of languageRedraws) redraw();
  $("lang").textContent = t("switchTo");
  $("lang").lang = lang === "zh" ? "en" : "zh-CN";
  document.title = t("title");
  const role = $("account-role"), chosen = role.value || "maker";
  role.replaceChildren(...["maker", "checker", "auditor", "admin"].map((r) => new Option(TEXT[lang].roles[r], r)));
  role.value = chosen;
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

// This browser's signing key for the logged-in person, and what the ledger says of it.
const signer = {
  who: null,          // the session ({actor, role, signing: {required, origin, key_ids}})
  keys: null,         // {privateKey, publicKey, publicRaw}
  keyId: "",
  state: "none",      // none | unsupported | enrolling | registered
  events: null,       // [{method, pattern: RegExp, event}] from /v1/openapi.json
};

function keyStore(mode, action) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("fundledger-console", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction("keys", mode);
      const req = action(tx.objectStore("keys"));
      tx.oncomplete = () => { open.result.close(); resolve(req.result); };
      tx.onerror = () => { open.result.close(); reject(tx.error); };
    };
  });
}

// Finds or makes this browser's key for the person, and hands a new one in.
async function prepareSigner(who, retried = false) {
  signer.who = who;
  signer.keys = null;
  signer.keyId = "";
  signer.state = "none";
  const signing = who.signing || { key_ids: [] };
  if (!window.crypto || !crypto.subtle || !window.indexedDB) { signer.state = "unsupported"; return; }
  const name = `${signing.origin} ${who.actor}`;
  try {
    let keys = await keyStore("readonly", (s) => s.get(name));
    if (!keys) {
      const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      keys = { privateKey: pair.privateKey, publicKey: pair.publicKey,
               publicRaw: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)) };
      await keyStore("readwrite", (s) => s.put(keys, name));
    }
    signer.keys = keys;
    signer.keyId = hex(await crypto.subtle.digest("SHA-256", keys.publicRaw)).slice(0, 16);
  } catch (e) {
    signer.state = "unsupported";  // no Ed25519 in this browser's WebCrypto
    return;
  }
  if ((signing.key_ids || []).includes(signer.keyId)) {
    signer.state = "registered";
    return;
  }
  const r = await api("POST", "/v1/sessions/current/key", { public_key: base64(signer.keys.publicRaw) });
  if (r.status === 409 && !retried) {  // revoked: this browser makes a new key
    await keyStore("readwrite", (s) => s.delete(name));
    return prepareSigner(who, true);
  }
  signer.state = r.json && r.json.status === "registered" ? "registered" : "enrolling";
}

// The event type a command route appends, from the OpenAPI document's x-event.
async function eventOf(method, path) {
  if (!signer.events) {
    const res = await fetch("/v1/openapi.json");
    const doc = await res.json();
    signer.events = [];
    for (const [pattern, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (!op["x-event"]) continue;
        const re = new RegExp("^" + pattern.replace(/\{[^}]+\}/g, "[^/]+") + "$");
        signer.events.push({ method: m.toUpperCase(), pattern: re, event: op["x-event"] });
      }
    }
  }
  const found = signer.events.find((e) => e.method === method && e.pattern.test(path));
  return found ? found.event : "";
}

// The Fundledger-Signature header over the exact request (ledger/actor_keys.h), or "".
async function signature(method, target, bytes, idempotencyKey) {
  if (signer.state !== "registered") return "";
  const event = await eventOf(method, target.split("?")[0]);
  if (!event) return "";
  const who = signer.who;
  const message = ["fundledger-command/v1", who.signing.origin, event, `${who.actor} ${who.role}`,
                   idempotencyKey, `${method} ${target}`, hex(await crypto.subtle.digest("SHA-256", bytes))]
                      .map((l) => l + "\n").join("");
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, signer.keys.privateKey, new TextEncoder().encode(message));
  return `${signer.keyId}:${base64(sig)}`;
}

const acceptLanguage = () => (lang === "zh" ? "zh-CN" : "en");

async function api(method, path, body, contentType = "application/json") {
  const headers = { "Accept-Language": acceptLanguage() };
  const url = new URL(path, location.origin);
  const target = url.pathname + url.search;  // exactly what is sent, and signed
  let payload;
  if (body && body.raw !== undefined) payload = body.raw;
  else if (body !== undefined) payload = new TextEncoder().encode(JSON.stringify(body));
  if (method === "POST") {
    headers["Content-Type"] = contentType;
    headers["X-CSRF-Token"] = csrf;
    headers["Idempotency-Key"] = body && body.idempotencyKey ? body.idempotencyKey : randomKey();
    const signed = await signature(method, target, payload || new Uint8Array(), headers["Idempotency-Key"]);
    if (signed) headers["Fundledger-Signature"] = signed;
  }
  const res = await fetch(target, { method, headers, body: payload, credentials: "same-origin" });
  const bytes = new Uint8Array(await res.arrayBuffer());  // a bank file may be GBK: kept as bytes
  const text = new TextDecoder().decode(bytes);
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV or empty */ }
  return { status: res.status, json, text, bytes, type: res.headers.get("Content-Type") || "", asked: headers["Accept-Language"] };
}

// A cell this short (a batch id, a month, an amount, a code) never breaks inside, so "2026-01"
// is not split at its hyphen in a narrow column; longer text wraps.
const shortCellChars = 24;

// A code (a check's or rule's id, a batch id, a bucket: letters and digits joined by _ . - or /,
// a letter among them) wraps in a narrow column only after its separators, never inside a word:
// breakable puts a <wbr> after each, and index.html lets no cell break inside a word.
const CODE = /[A-Za-z0-9]+(?:[_.\-/][A-Za-z0-9]+)+/g;

// `text` into `el`, each code in it breakable after its separators (the text itself unchanged).
function breakable(el, text) {
  const parts = [];
  let at = 0;
  for (const m of text.matchAll(CODE)) {
    if (!/[A-Za-z]/.test(m[0])) continue;  // 2026-03, 1,045.00: a month or an amount stays whole
    parts.push(text.slice(at, m.index));
    for (const piece of m[0].split(/(?<=[_.\-/])/)) parts.push(piece, document.createElement("wbr"));
    parts.pop();
    at = m.index + m[0].length;
  }
  parts.push(text.slice(at));
  el.replaceChildren(...parts.filter((p) => p !== ""));
  return el;
}

function cell(row, text) {
  const td = document.createElement("td");
  // A short cell gets no <wbr>: Chromium breaks at one even where white-space is nowrap.
  if (text.length > 0 && text.length <= shortCellChars) {
    td.textContent = text;
    td.className = "short";
  } else {
    breakable(td, text);
  }
  row.appendChild(td);
  return td;
}

const panels = [];

async function showWork(who) {
  csrf = who.csrf_token || csrf;
  $("who").textContent = TEXT[lang].as(who.actor, who.role);
  $("login-section").hidden = true;
  $("accounts-section").hidden = who.role !== "admin";
  $("upload-section").hidden = who.role !== "admin" && who.role !== "maker";  // who may prepare a roll
  $("work").hidden = false;
  $("logout").hidden = false;
  await prepareSigner(who);
  showKeyState();
  await loadFunds();  // the batches table names funds
  await Promise.all([loadPrograms(), who.role === "admin" ? loadAccounts() : null,
    ...panels.filter((p) => p.onWork).map((p) => p.onWork(who))]);
}

// The key-state line: a registered key said plainly; a key that is not (or cannot be) registered
// only on a ledger that requires signed actions, where it stops the person's work, with what to
// do for their role. `data-signer` says the state once the browser's key is known (tests wait
// for it).
function showKeyState() {
  const el = $("key-state");
  const required = Boolean(signer.who && signer.who.signing && signer.who.signing.required);
  const blocked = required && (signer.state === "enrolling" || signer.state === "unsupported");
  const enrolling = signer.who && signer.who.role === "admin" ? "keyEnrollingAdmin" : "keyEnrolling";
  el.className = signer.state === "registered" ? "ok" : blocked ? "error" : "";
  el.textContent = signer.state === "registered" ? TEXT[lang].keyRegistered(signer.keyId)
                 : !blocked ? ""
                 : signer.state === "enrolling" ? TEXT[lang][enrolling](signer.keyId) : t("keyUnsupported");
  el.hidden = !el.textContent;
  if (signer.state === "none") delete el.dataset.signer;
  else el.dataset.signer = signer.state;
}

// Empties a table's body and adds one row per item, filled by `fill(row, item)`.
function refill(tableId, items, fill) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const item of items || []) fill(body.insertRow(), item);
}

async function loadAccounts() {
  const r = await api("GET", "/v1/accounts");
  refill("accounts-table", r.json && r.json.accounts, (row, a) => {
    row.dataset.account = a.name;
    cell(row, a.name); cell(row, TEXT[lang].roles[a.role] || a.role);
    cell(row, t(a.disabled ? "disabled" : a.locked ? "locked" : "active"));
    const k = a.enrolling_key;
    cell(row, !k ? t("noKey") : k.registered ? TEXT[lang].keyDone(k.key_id) : TEXT[lang].keyWaiting(k.key_id));
    const td = cell(row, "");
    if (k && !k.registered) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t("registerKey");
      button.setAttribute("aria-label", `${t("registerKey")} ${a.name} ${k.key_id}`);
      button.addEventListener("click", () => registerKey(a.name, k));
      td.append(button);
    }
  });
}

async function registerKey(name, key) {
  const r = await api("POST", "/v1/actor-keys", { actor: name, public_key: key.public_key, document: "console" });
  if (r.status === 201 || r.status === 200) say("accounts-result", "ok", "keyRegisteredFor", name, key.key_id);
  else say("accounts-result", "error", serverText(r));
  await loadAccounts();
}

async function createAccount(event) {
  event.preventDefault();
  const name = $("account-name").value.trim();
  const r = await api("POST", "/v1/accounts", { name, role: $("account-role").value, password: $("account-password").value });
  if (r.status === 201) say("accounts-result", "ok", "created", name);
  else say("accounts-result", "error", serverText(r));
  if (r.status === 201) { $("account-password").value = ""; await loadAccounts(); }
}

// What the server answered in `r` (an api() result: its error's message, else its text) as a
// function giving it in the page's language, for say: the error's `translations` when it carries
// them; its own message while the page speaks the language it was asked in; else, since the
// server wrote no other, the page's name for its code and field (`framed`: as a sentence saying
// the server refused; else bare, inside a sentence of the page's).
function serverText(r, framed = true) {
  const error = r.json && r.json.error, text = r.text, asked = r.asked;
  if (!error) return () => text;
  const ours = () => {
    const what = named("codes", error.code), field = named("fields", error.field);
    return framed ? TEXT[lang].refused(what, field) : field ? `${what} (${field})` : what;
  };
  return () => (error.translations && error.translations[lang]) || (acceptLanguage() === asked ? error.message || "" : ours());
}

const fundNames = {};

async function loadFunds() {
  const r = await api("GET", "/v1/funds");
  const select = $("upload-fund");
  select.replaceChildren();
  for (const f of (r.json && r.json.funds) || []) {
    const o = document.createElement("option");
    o.value = f.fund_id;
    o.textContent = f.name;
    fundNames[f.fund_id] = f.name;
    select.appendChild(o);
  }
}

async function loadPrograms() {
  const r = await api("GET", "/v1/programs");
  refill("programs-table", r.json && r.json.programs, (row, p) => {
    cell(row, p.program_id); cell(row, p.name); cell(row, named("categories", p.category));
  });
}

async function sha256Hex(bytes) {
  if (!crypto.subtle) return randomKey();
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

// Every problem of a rejected upload (a roll, a bank return file; the error shape of
// api/roll_report.h) in the table `${prefix}-table` of the block `${prefix}`, and its download
// links: `${prefix}-download` the whole list as an .xlsx (row numbers as numbers, the uploaded
// spreadsheet's), `${prefix}-download-csv` (when the page has it) the server's CSV as it is.
// `name` is the downloaded file's name without its extension.
// The text of an answer (an error, a problem, a finding's detail) in the page's language: the
// server writes it in each language the console speaks (`translations`), else in the request's.
function inPageLanguage(o, field = "message") {
  return (o.translations && o.translations[lang]) || o[field] || "";
}

// The problems each block shows ({error, names}), redrawn in the page's language on a switch.
const shownProblems = {};

// `names` is the downloaded file's name without its extension, in each language ({zh, en}).
function showProblems(prefix, error, names) {
  shownProblems[prefix] = { error, names };
  drawProblems(prefix);
  $(prefix).hidden = false;
}

function drawProblems(prefix) {
  const { error, names } = shownProblems[prefix];
  const details = error.details || [];
  refill(`${prefix}-table`, details, (row, d) => {
    cell(row, d.line ? String(d.line) : ""); cell(row, named("fields", d.field)); cell(row, named("codes", d.code));
    cell(row, inPageLanguage(d)).className = "wide";
  });
  const total = error.details_total || 0;
  $(`${prefix}-caption`).textContent = inPageLanguage(error) + (total > details.length ? TEXT[lang].shown(details.length, total) : "");
  const xlsx = $(`${prefix}-download`), csv = $(`${prefix}-download-csv`);
  xlsx.hidden = !window.FLXlsx || (!error.report && !details.length);
  xlsx.onclick = (event) => { event.preventDefault(); downloadProblems(error, names[lang], "xlsx"); };
  if (csv) {
    csv.hidden = !error.report;
    csv.onclick = (event) => { event.preventDefault(); downloadProblems(error, names[lang], "csv"); };
  }
}

languageRedraws.push(() => {
  for (const prefix of Object.keys(shownProblems)) if (!$(prefix).hidden) drawProblems(prefix);
});

function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// RFC 4180 text (quoted cells, doubled quotes, CRLF) as rows of cells; a leading BOM dropped.
function parseCsv(text) {
  const rows = [];
  let row = [], cellText = "", quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cellText += '"'; i++; }
      else if (c === '"') quoted = false;
      else cellText += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cellText); cellText = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cellText); rows.push(row); row = []; cellText = "";
    } else cellText += c;
  }
  if (cellText || row.length) { row.push(cellText); rows.push(row); }
  return rows;
}

// The whole list (the server's report, not only the rows shown) as .xlsx, or the CSV as it is.
async function downloadProblems(error, name, format) {
  let problems = (error.details || []).map((d) => [d.line || "", d.field || "", d.code || "", inPageLanguage(d)]);
  if (error.report) {  // the server writes the whole list in the language asked
    const res = await fetch(error.report, { credentials: "same-origin", headers: { "Accept-Language": acceptLanguage() } });
    if (res.ok && format === "csv") { saveFile(await res.blob(), name + ".csv"); return; }
    if (res.ok) problems = parseCsv(await res.text()).slice(1).map((r) => [r[0] ? Number(r[0]) : "", r[1], r[2], r[3]]);
  }
  if (!window.FLXlsx) return;
  const rows = [[t("row"), t("column"), t("code"), t("problem")],
    ...problems.map(([line, field, code, message]) => [line, named("fields", field), named("codes", code), message])];
  saveFile(await window.FLXlsx.toXlsx(rows, t("problem")), name + ".xlsx");
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  let bytes = new Uint8Array(await file.arrayBuffer());
  const out = $("upload-result");
  if (/\.xlsx$/i.test(file.name)) {  // the sheet as the CSV the server parses, row for row
    if (!window.FLXlsx) return say(out, "error", "noXlsx");
    try {
      bytes = new TextEncoder().encode(await window.FLXlsx.toCsv(bytes.buffer));
    } catch (e) {
      return say(out, "error", "badXlsx");
    }
  }
  const fund = $("upload-fund").value, period = $("upload-period").value.trim();
  const key = await sha256Hex(new Uint8Array([...new TextEncoder().encode(fund + "|" + period + "|"), ...bytes]));
  const query = new URLSearchParams({ fund_id: fund, period });
  const r = await api("POST", "/v1/disbursement-batches?" + query, { raw: bytes, idempotencyKey: key }, "text/csv");
  $("problems").hidden = true;
  if (r.status === 201 || r.status === 200) {
    say(out, "ok", "prepared", r.json.batch_id, r.json.lines, r.json.total);
    document.dispatchEvent(new CustomEvent("fl-batches-changed"));  // checker.js lists them
  } else if (r.json && r.json.error) {
    say(out, "error", "");
    showProblems("problems", r.json.error, { zh: "名册问题", en: "roll-problems" });
  } else {
    say(out, "error", serverText(r));
  }
}

async function findPerson(event) {
  event.preventDefault();
  const id = $("people-id").value.trim();
  const r = await api("GET", "/v1/beneficiaries?" + new URLSearchParams({ id_number: id }));
  if (r.status !== 200) say("people-result", "error", serverText(r));
  else if (!r.json.beneficiaries.length) say("people-result", "", "notFound");
  else say("people-result", "ok", "found", r.json.beneficiaries[0].beneficiary_id, r.json.beneficiaries[0].name_masked);
}

async function logIn(event) {
  event.preventDefault();
  const r = await api("POST", "/v1/sessions", { name: $("login-name").value, password: $("login-password").value });
  if (r.status !== 201) return say("login-error", "error", serverText(r));
  say("login-error", "error", "");
  $("login-password").value = "";
  await showWork(r.json);
}

async function logOut() {
  await api("POST", "/v1/sessions/current/logout", {});
  csrf = "";
  signer.who = null;
  signer.state = "none";
  showKeyState();
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
    if (!$("work").hidden) {
      loadPrograms();
      showKeyState();
      if (!$("accounts-section").hidden) loadAccounts();
      if (signer.who) $("who").textContent = TEXT[lang].as(signer.who.actor, signer.who.role);
    }
  });
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  requiredInPageLanguage();
  for (const table of document.querySelectorAll("main table")) scrollable(table);
  emptyNote($("programs-table"), "emptyPrograms");
  dateField($("upload-period"), "month");
  $("upload-form").addEventListener("submit", upload);
  filePicker($("upload-file"));
  $("people-form").addEventListener("submit", findPerson);
  $("account-form").addEventListener("submit", createAccount);
  const now = new Date();
  $("upload-period").value = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  const me = await api("GET", "/v1/sessions/current");
  if (me.status === 200 && me.json.csrf_token) await showWork(me.json);
}

window.FLConsole = {
  api, acceptLanguage, cell, breakable, $, say, draw, serverText, showProblems, saveFile, filePicker, dateField, scrollable, emptyNote, inPageLanguage,
  t: (key) => TEXT[lang][key],
  lang: () => lang,
  register(panel) {
    for (const l of Object.keys(TEXT)) Object.assign(TEXT[l], (panel.text && panel.text[l]) || {});
    panels.push(panel);
  },
};

// Panel scripts load after this one; they have all registered when the document is parsed.
document.addEventListener("DOMContentLoaded", start);
