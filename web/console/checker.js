// The checker's panel: the batches waiting for approval, each with approve / reject (a reason
// required) and a review drawn from GET /v1/disbursement-batches/{id}/review (totals by program
// and region, the change from last month's roll with its lines, a sample of lines) and a link to
// the printable approval sheet (审批表). Who may not decide a batch (its own maker, a role that
// may not approve) sees why beside the buttons; the buttons stay focusable (aria-disabled), so
// trying anyway shows the server's refusal in the console's language. Every figure is the
// server's: money as the yuan strings it writes, nothing summed here.
"use strict";
(() => {
  const C = window.FLConsole;
  const $ = C.$, t = C.t, cell = C.cell;
  let session = null;
  let reviewed = "";  // the batch whose review is shown
  let emptyNote = () => {};  // redraws the line under an empty batches table

  const TEXT = {
    zh: {
      review: "审阅", sheet: "审批表", reviewOf: (b) => `批次 ${b} 审阅`,
      byProgram: "按项目汇总", byRegion: "按地区汇总", program: "项目", region: "地区", people: "人数",
      amount: "金额（元）", previousAmount: "上月（元）", status: "人员状态",
      month: "与上月对比", sample: "抽样明细", line: "行号", person: "受益人编号",
      added: "新增", dropped: "减少", changed: "金额变化",
      previous: (m) => m.batches.length
        ? `上月（${m.period}，批次 ${m.batches.join("、")}）：${m.line_count} 行，合计 ${m.total} 元。新增 ${m.people_added} 人，减少 ${m.people_dropped} 人；新增 ${m.added.count} 项，减少 ${m.dropped.count} 项，金额变化 ${m.changed.count} 项。`
        : `上月（${m.period}）没有已批准的名册：本批次全部为新增。`,
      changeCaption: (title, c) => `${title}：${c.count} 项，金额变化 ${c.amount} 元` + (c.truncated ? `（只显示前 ${c.lines.length} 项）` : ""),
      summary: (r) => `资金 ${r.fund_name || r.fund_id}（${r.fund_id}），发放月份 ${r.period}，${r.line_count} 行，合计 ${r.total} 元，制单人 ${r.maker}。`,
      noReason: "退回须写明原因：请在“退回原因”中填写。",
      roleRefused: (m) => `你的角色不能审批批次（服务器答复：${m}）`,
      whyOwn: "你是该批次的制单人，须由另一人审批（制单与审批不能是同一人）。",
      whyRole: (r) => `只有复核人（checker）或管理员可以审批批次；你的角色是${r}。`,
      statuses: { deceased: "已去世", suspended: "已暂停", exited: "已退出", active: "正常" },
      noneToUpload: "没有待审批的批次：在上方上传名册后，它在这里等待另一人审批。",
      noneToDecide: "没有待审批的批次：经办人上传的名册会列在这里等待审批。",
    },
    en: {
      review: "Review", sheet: "Approval sheet", reviewOf: (b) => `Review of batch ${b}`,
      byProgram: "Totals by program", byRegion: "Totals by region", program: "Program", region: "Region",
      people: "People", amount: "Amount (yuan)", previousAmount: "Last month (yuan)", status: "Person's status",
      month: "Change from last month", sample: "Sample of lines", line: "Line", person: "Beneficiary",
      added: "Added", dropped: "Dropped", changed: "Amount changed",
      previous: (m) => m.batches.length
        ? `Last month (${m.period}, batch ${m.batches.join(", ")}): ${m.line_count} lines, ${m.total} yuan. ${m.people_added} people added, ${m.people_dropped} dropped; ${m.added.count} lines added, ${m.dropped.count} dropped, ${m.changed.count} amounts changed.`
        : `Last month (${m.period}) has no approved roll: every line of this batch is new.`,
      changeCaption: (title, c) => `${title}: ${c.count} lines, ${c.amount} yuan difference` + (c.truncated ? ` (the first ${c.lines.length} shown)` : ""),
      summary: (r) => `Fund ${r.fund_name || r.fund_id} (${r.fund_id}), month ${r.period}, ${r.line_count} lines, ${r.total} yuan, prepared by ${r.maker}.`,
      noReason: "A rejection needs a reason: write it in \"Reason for rejecting\".",
      roleRefused: (m) => `Your role may not approve or reject batches (the server said: ${m})`,
      whyOwn: "You prepared this batch; a different person must approve or reject it.",
      whyRole: (r) => `Only a checker or an admin may approve or reject a batch; your role is ${r}.`,
      statuses: { deceased: "deceased", suspended: "suspended", exited: "exited", active: "active" },
      noneToUpload: "No batch waits for approval: upload a roll above and it waits here for another person's approval.",
      noneToDecide: "No batch waits for approval: the rolls makers upload are listed here to approve.",
    },
  };
  const T = (key) => TEXT[C.lang()][key];

  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "attrs") for (const [a, x] of Object.entries(v)) e.setAttribute(a, x);
      else e[k] = v;
    }
    e.append(...children);
    return e;
  }

  // A table with a caption, column heads and rows of cell texts, in a box that scrolls sideways
  // on a narrow screen (FLConsole.scrollable).
  function table(caption, heads, rows, id) {
    const tbl = el("table", id ? { id } : {});
    tbl.append(el("caption", { textContent: caption }));
    const head = tbl.createTHead().insertRow();
    for (const h of heads) head.appendChild(el("th", { scope: "col", textContent: h }));
    const body = tbl.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      for (const c of r) cell(tr, c === undefined ? "" : String(c));
    }
    return C.scrollable(tbl);
  }

  // Why the person logged in may not decide batch `b` ("" when they may): the ledger's rules.
  function whyNot(b) {
    if (!session) return "";
    if (session.actor === b.maker) return T("whyOwn");
    if (session.role !== "checker" && session.role !== "admin") return T("whyRole")(session.role);
    return "";
  }

  function decisionButton(label, batch, why, onClick, secondary) {
    const button = el("button", { type: "button", textContent: label, className: secondary ? "secondary" : "" });
    button.setAttribute("aria-label", `${label} ${batch}`);
    if (why) {
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-describedby", `why-${batch}`);
      button.classList.add("blocked");
    }
    button.addEventListener("click", onClick);
    return button;
  }

  // `keepStatus`: a redraw (a switch of language), which leaves the line of the last decision.
  async function loadBatches(keepStatus = false) {
    const r = await C.api("GET", "/v1/disbursement-batches?status=prepared");
    const body = $("batches-table").tBodies[0];
    body.replaceChildren();
    const batches = (r.json && r.json.batches) || [];
    if (!keepStatus) C.say("batches-result", "", "");
    emptyNote();  // whose session it is decides what it says
    for (const b of batches) {
      const row = body.insertRow();
      row.dataset.batch = b.batch_id;
      cell(row, b.batch_id); cell(row, b.fund_id); cell(row, b.period);
      cell(row, String(b.line_count)); cell(row, b.total); cell(row, b.maker);
      const td = cell(row, "");
      td.className = "decision";  // its buttons, reason field and why side by side, not one word a line
      const why = whyNot(b);
      const reason = el("input", { placeholder: t("reason") });
      reason.setAttribute("aria-label", `${t("reason")} ${b.batch_id}`);
      td.append(
        decisionButton(T("review"), b.batch_id, "", () => showReview(b.batch_id), true), " ",
        decisionButton(t("approve"), b.batch_id, why, () => decide(b.batch_id, true, "")), " ",
        reason, " ",
        decisionButton(t("reject"), b.batch_id, why, () => decide(b.batch_id, false, reason.value), true));
      if (why) td.append(el("p", { id: `why-${b.batch_id}`, className: "why", textContent: why }));
    }
  }

  async function decide(batch, approve, reason) {
    if (!approve && !reason.trim()) return C.say("batches-result", "error", () => T("noReason"));
    const path = `/v1/disbursement-batches/${encodeURIComponent(batch)}/${approve ? "approve" : "reject"}`;
    const r = await C.api("POST", path, approve ? { document: "console" } : { reason });
    if (r.status === 201 || r.status === 200) {
      await loadBatches();
      if (reviewed === batch) await showReview(batch);
      C.say("batches-result", "ok", approve ? "approved" : "rejected", batch);
    } else if (r.status === 403) {
      C.say("batches-result", "error", () => T("roleRefused"), C.serverText(r, false));
    } else {
      C.say("batches-result", "error", C.serverText(r));
    }
  }

  const named = (code, name) => (name ? `${name}（${code}）` : code);

  // A change list longer than this starts collapsed (its count in the summary), so a month in
  // which many people dropped does not bury the rest of the review.
  const openLinesMax = 10;

  function changeTable(title, change, id) {
    const status = T("statuses");
    const caption = T("changeCaption")(title, change);
    const tbl = table(caption,
      [T("person"), T("program"), T("region"), T("previousAmount"), T("amount"), T("status")],
      change.lines.map((l) => [l.beneficiary_id, l.program_id, named(l.region, l.region_name), l.previous_amount || "0.00", l.amount,
        l.status ? status[l.status] || l.status : ""]), id);
    return el("details", { id: id + "-box", open: change.lines.length <= openLinesMax }, el("summary", { textContent: caption }), tbl);
  }

  async function showReview(batch) {
    reviewed = batch;
    const box = $("review");
    const r = await C.api("GET", `/v1/disbursement-batches/${encodeURIComponent(batch)}/review`);
    if (r.status !== 200) {
      box.replaceChildren(el("p", { className: "error", textContent: r.json ? r.json.error.message : r.text }));
      box.hidden = false;
      return;
    }
    const v = r.json, m = v.previous_month;
    const sheet = el("a", { id: "review-sheet", href: `/v1/disbursement-batches/${encodeURIComponent(batch)}/approval-sheet`,
      target: "_blank", rel: "noopener", textContent: `${T("sheet")} ${batch}` });
    box.replaceChildren(
      el("h3", { id: "review-title", textContent: T("reviewOf")(batch) }),
      el("p", { id: "review-summary", textContent: T("summary")(v) }),
      v.decision.allowed ? "" : el("p", { className: "why", id: "review-why", textContent: v.decision.message }),
      el("p", {}, sheet),
      table(T("byProgram"), [T("program"), t("lines"), T("people"), T("amount")],
        v.by_program.map((p) => [named(p.program_id, p.name), p.lines, p.people, p.amount]), "review-programs"),
      table(T("byRegion"), [T("region"), t("lines"), T("people"), T("amount")],
        v.by_region.map((p) => [named(p.region, p.name), p.lines, p.people, p.amount]), "review-regions"),
      el("h4", { textContent: T("month") }),
      el("p", { id: "review-month", textContent: T("previous")(m) }),
      m.added.count ? changeTable(T("added"), m.added, "review-added") : "",
      m.dropped.count ? changeTable(T("dropped"), m.dropped, "review-dropped") : "",
      m.changed.count ? changeTable(T("changed"), m.changed, "review-changed") : "",
      table(T("sample"), [T("line"), T("person"), T("program"), T("region"), T("amount")],
        v.sample.map((l) => [l.line_no, l.beneficiary_id, l.program_id, named(l.region, l.region_name), l.amount]), "review-sample"));
    box.hidden = false;
  }

  C.register({
    text: {},
    async onWork(who) {
      session = who;
      reviewed = "";
      $("review").hidden = true;
      await loadBatches();
    },
    onLanguage() {
      if ($("work").hidden) return;
      loadBatches(true);
      if (reviewed) showReview(reviewed);
    },
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("batches-refresh").addEventListener("click", () => loadBatches());
    // Who may upload is told where a roll comes from; a checker, that makers' rolls come here.
    emptyNote = C.emptyNote($("batches-table"),
      () => T(session && (session.role === "maker" || session.role === "admin") ? "noneToUpload" : "noneToDecide"));
  });
  document.addEventListener("fl-batches-changed", () => loadBatches());
})();
