// The bank panel of the staff console (一卡通): for approved batches, download the bank payment
// file (代发文件) in a bank's layout, and upload the bank's return file (回盘文件), whose every
// problem is shown in one table (row numbers as in the file) with the whole list to download.
// The server records each export and every returned line; this page only moves files.
"use strict";

(() => {
  const C = window.FLConsole;
  const $ = C.$;
  const t = (key) => C.t(key);

  C.register({
    text: {
      zh: {
        bankTitle: "银行代发", bankRefresh: "刷新已批准批次", bankLayout: "银行文件格式",
        bankExport: "下载代发文件", bankReturnTitle: "导入银行回盘文件", bankBatch: "批次",
        bankFile: "回盘文件（CSV）", bankSend: "导入", bankNone: "没有已批准的批次：批次经审批后，在这里下载它的代发文件。",
        bankDownload: "下载全部问题（Excel）", bankPeriod: "发放月份", bankLines: "行数",
        bankTotal: "合计（元）", bankAction: "代发文件",
        bankExported: (b) => `已下载批次 ${b} 的代发文件（本次导出已记入台账）。`,
        bankRecorded: (b, n, p) => `批次 ${b}：已记录 ${n} 笔退回，${p} 笔银行已成功发放。`,
        bankAgain: (b) => `批次 ${b} 的这份回盘文件已经导入过，没有重复记录。`,
      },
      en: {
        bankTitle: "Bank payments", bankRefresh: "Refresh approved batches", bankLayout: "Bank file layout",
        bankExport: "Download the bank file", bankReturnTitle: "Import the bank's return file", bankBatch: "Batch",
        bankFile: "Return file (CSV)", bankSend: "Import", bankNone: "No approved batch: once a batch is approved, its bank file is downloaded here.",
        bankDownload: "Download every problem (Excel)", bankPeriod: "Month", bankLines: "Lines",
        bankTotal: "Total (yuan)", bankAction: "Bank file",
        bankExported: (b) => `Downloaded the bank file of batch ${b} (the export is recorded in the ledger).`,
        bankRecorded: (b, n, p) => `Batch ${b}: ${n} returned lines recorded; the bank paid ${p}.`,
        bankAgain: (b) => `This return file of batch ${b} was imported before; nothing was recorded twice.`,
      },
    },
    onWork: (who) => {
      $("bank-section").hidden = who.role !== "admin" && who.role !== "maker";
      return $("bank-section").hidden ? undefined : loadApproved();
    },
    onLanguage: () => { label(); if (!$("bank-section").hidden) loadApproved(true); },
  });

  function build() {
    const section = document.createElement("section");
    section.id = "bank-section";
    section.hidden = true;
    section.setAttribute("aria-labelledby", "bank-title");
    section.innerHTML = `
      <h2 id="bank-title" data-bt="bankTitle"></h2>
      <div class="row">
        <div><label for="bank-layout" data-bt="bankLayout"></label><input id="bank-layout" value="default" size="12"></div>
        <div><button id="bank-refresh" class="secondary" type="button" data-bt="bankRefresh"></button></div>
      </div>
      <p id="bank-result" role="status" aria-live="polite"></p>
      <table id="bank-table">
        <thead><tr><th scope="col" data-bt="bankBatch"></th><th scope="col" data-bt="bankPeriod"></th><th scope="col" data-bt="bankLines"></th><th scope="col" data-bt="bankTotal"></th><th scope="col" data-bt="bankAction"></th></tr></thead>
        <tbody></tbody>
      </table>
      <h3 id="bank-return-title" data-bt="bankReturnTitle"></h3>
      <form id="bank-return-form" class="row" aria-labelledby="bank-return-title">
        <div><label for="bank-return-batch" data-bt="bankBatch"></label><select id="bank-return-batch" required></select></div>
        <div><label for="bank-return-file" data-bt="bankFile"></label><input id="bank-return-file" type="file" accept=".csv,.txt,text/csv" required></div>
        <div><button type="submit" data-bt="bankSend"></button></div>
      </form>
      <p id="bank-return-result" role="status" aria-live="polite"></p>
      <div id="bank-problems" hidden>
        <p><a id="bank-problems-download" href="#" data-bt="bankDownload"></a></p>
        <table id="bank-problems-table">
          <caption class="error" id="bank-problems-caption"></caption>
          <thead><tr><th scope="col" data-t="row"></th><th scope="col" data-t="column"></th><th scope="col" data-t="code"></th><th scope="col" data-t="problem"></th></tr></thead>
          <tbody></tbody>
        </table>
      </div>`;
    $("work").appendChild(section);
    $("bank-refresh").addEventListener("click", () => loadApproved());
    $("bank-return-form").addEventListener("submit", importReturns);
    C.filePicker($("bank-return-file"));
    C.emptyNote($("bank-table"), "bankNone");
    label();
  }

  function label() {
    for (const el of document.querySelectorAll("#bank-section [data-bt]")) el.textContent = t(el.dataset.bt);
    for (const el of document.querySelectorAll("#bank-section [data-t]")) el.textContent = t(el.dataset.t);
  }

  // `keepStatus`: a redraw (a switch of language), which leaves the line of the last export.
  async function loadApproved(keepStatus = false) {
    const r = await C.api("GET", "/v1/disbursement-batches?status=approved");
    const batches = (r.json && r.json.batches) || [];
    const body = $("bank-table").tBodies[0];
    const select = $("bank-return-batch");
    body.replaceChildren();
    select.replaceChildren();
    if (!keepStatus) C.say("bank-result", "", "");
    for (const b of batches) {
      const row = body.insertRow();
      row.dataset.batch = b.batch_id;
      C.cell(row, b.batch_id); C.cell(row, b.period); C.cell(row, String(b.line_count)); C.cell(row, b.total);
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t("bankExport");
      button.setAttribute("aria-label", `${t("bankExport")} ${b.batch_id}`);
      button.addEventListener("click", () => exportFile(b.batch_id));
      C.cell(row, "").appendChild(button);
      const o = document.createElement("option");
      o.value = b.batch_id;
      o.textContent = `${b.batch_id} (${b.period})`;
      select.appendChild(o);
    }
  }

  // The export is a command like any other (signed, recorded before the file is answered); the
  // file is bytes (GBK for some banks), never decoded here.
  async function exportFile(batch) {
    const layout = $("bank-layout").value.trim() || "default";
    const path = `/v1/disbursement-batches/${encodeURIComponent(batch)}/bank-file-exports?` + new URLSearchParams({ layout });
    const res = await C.api("POST", path, { raw: new Uint8Array() });
    if (res.status !== 200 && res.status !== 201) return C.say("bank-result", "error", C.serverText(res));
    C.saveFile(new Blob([res.bytes], { type: res.type }), `${batch}-${layout}.csv`);
    $("bank-return-batch").value = batch;  // its return file comes next
    C.say("bank-result", "ok", "bankExported", batch);
  }

  async function sha256Hex(bytes) {
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function importReturns(event) {
    event.preventDefault();
    const file = $("bank-return-file").files[0];
    const batch = $("bank-return-batch").value;
    if (!file || !batch) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    // The same file for the same batch is the same command: a retry never records twice.
    const key = await sha256Hex(new Uint8Array([...new TextEncoder().encode("bank-returns|" + batch + "|"), ...bytes]));
    const layout = $("bank-layout").value.trim() || "default";
    const path = `/v1/disbursement-batches/${encodeURIComponent(batch)}/bank-returns?` + new URLSearchParams({ layout });
    const r = await C.api("POST", path, { raw: bytes, idempotencyKey: key }, "text/csv");
    $("bank-problems").hidden = true;
    if ((r.status === 200 || r.status === 201) && r.json) {
      if (r.json.already_recorded) C.say("bank-return-result", "ok", "bankAgain", batch);
      else C.say("bank-return-result", "ok", "bankRecorded", batch, r.json.returned, r.json.paid_rows);
    } else if (r.json && r.json.error) {
      C.say("bank-return-result", "error", "");
      C.showProblems("bank-problems", r.json.error, { zh: "回盘问题", en: "return-problems" });
    } else {
      C.say("bank-return-result", "error", C.serverText(r));
    }
  }

  build();  // this script runs after the page's body (#work) is parsed, before FLConsole starts
})();
