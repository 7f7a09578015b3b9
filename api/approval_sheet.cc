#include "api/approval_sheet.h"

#include <fmt/core.h>

#include <ctime>

#include "api/disclosure_render.h"
#include "ledger/events.h"

namespace fundledger {
namespace {

constexpr int64_t kChinaOffsetMs = 8 * 3600 * 1000;  // UTC+8, no daylight saving

constexpr const char* kStyle = R"(<style>
body { font-family: "Noto Serif CJK SC", "SimSun", serif; margin: 1.5rem; color: #000; }
h1 { text-align: center; font-size: 1.5rem; letter-spacing: .3em; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #000; padding: .25rem .4rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { font-size: .8rem; }
.signatures td { height: 3.2rem; vertical-align: bottom; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } h2 { break-after: avoid; }
  tr { break-inside: avoid; } }
</style>)";

std::string StatusText(const std::string& status) {
  if (status == "prepared") return "待审批";
  if (status == "approved") return "已批准";
  if (status == "rejected") return "已退回";
  return HtmlEscape(status);
}

std::string PersonStatusText(const std::string& status) {
  if (status == "deceased") return "已去世";
  if (status == "suspended") return "已暂停";
  if (status == "exited") return "已退出";
  if (status == "active") return "正常";
  return HtmlEscape(status);
}

std::string Named(const std::string& code, const std::string& name) {
  return name.empty() ? HtmlEscape(code) : HtmlEscape(name) + "（" + HtmlEscape(code) + "）";
}

std::string Totals(const char* title, const char* head, const std::vector<ReviewTotal>& totals) {
  std::string h = fmt::format(
      "<h2>{}</h2><table><tr><th>{}</th><th>行数</th><th>人数</th><th>金额（元）</th></tr>", title,
      head);
  for (const ReviewTotal& t : totals) {
    h += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td></tr>",
        Named(t.code, t.name), t.lines, t.people, FormatFen(t.amount_fen));
  }
  return h + "</table>";
}

std::string ChangeLines(const char* title, const ReviewChange& c) {
  if (c.count == 0) return "";
  std::string h = fmt::format(
      "<h2>{}（{} 项，金额变化 {} 元）</h2><table><tr><th>受益人编号</th><th>项目</th>"
      "<th>地区</th><th>上月（元）</th><th>本月（元）</th><th>说明</th></tr>",
      title, c.count, FormatFen(c.amount_fen));
  for (const ReviewLine& l : c.lines) {
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td>{}</td></tr>",
        HtmlEscape(l.beneficiary), HtmlEscape(l.program), Named(l.region, l.region_name),
        FormatFen(l.previous_fen), FormatFen(l.amount_fen),
        l.person_status.empty() ? "" : "人员状态：" + PersonStatusText(l.person_status));
  }
  h += "</table>";
  if (c.lines.size() < c.count)
    h += fmt::format("<p class=\"note\">只列出前 {} 项，共 {} 项；全部见系统。</p>", c.lines.size(),
                     c.count);
  return h;
}

std::string Comparison(const BatchReview& r) {
  std::string previous;
  for (const std::string& id : r.previous_batches) previous += (previous.empty() ? "" : "、") + id;
  std::string h = fmt::format(
      "<h2>与上月对比（{}）</h2><table>"
      "<tr><th>上月批次</th><td colspan=\"3\">{}</td></tr>"
      "<tr><th>上月行数</th><td class=\"n\">{}</td><th>上月合计（元）</th><td "
      "class=\"n\">{}</td></tr>"
      "<tr><th>新增人员</th><td class=\"n\">{}</td><th>减少人员</th><td class=\"n\">{}</td></tr>"
      "<tr><th>新增项</th><td class=\"n\">{}</td><th>减少项</th><td class=\"n\">{}</td></tr>"
      "<tr><th>金额变化项</th><td class=\"n\">{}</td><th></th><td></td></tr></table>",
      FormatMonth(r.previous_period), previous.empty() ? "无（上月没有已批准的名册）" : previous,
      r.previous_line_count, FormatFen(r.previous_total_fen), r.people_added, r.people_dropped,
      r.added.count, r.dropped.count, r.changed.count);
  return h + ChangeLines("新增", r.added) + ChangeLines("减少", r.dropped) +
         ChangeLines("金额变化", r.changed);
}

std::string Step(const char* who, const ReviewStep& step) {
  if (step.index == 0 && step.actor.empty())
    return fmt::format("<tr><th>{}</th><td colspan=\"3\">（尚未审批）</td></tr>", who);
  return fmt::format(
      "<tr><th>{}</th><td>{}</td><td>{}（北京时间）</td><td>日志条目 #{}{}</td></tr>", who,
      HtmlEscape(step.actor), ChinaTimeText(step.timestamp_ms), step.index,
      step.note.empty() ? "" : "；" + HtmlEscape(step.note));
}

}  // namespace

std::string ChinaTimeText(int64_t timestamp_ms) {
  std::time_t seconds = static_cast<std::time_t>((timestamp_ms + kChinaOffsetMs) / 1000);
  std::tm t{};
  gmtime_r(&seconds, &t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                     t.tm_hour, t.tm_min);
}

std::string ApprovalSheetHtml(const BatchReview& r, const std::string& root_hex) {
  std::string h = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>" +
                  HtmlEscape("发放名册审批表 " + r.batch_id) + "</title>" + kStyle +
                  "</head><body><h1>发放名册审批表</h1>";
  h += fmt::format(
      "<table id=\"sheet-head\"><tr><th>批次编号</th><td>{}</td><th>状态</th><td>{}</td></tr>"
      "<tr><th>资金</th><td>{}</td><th>资金账户</th><td>{}</td></tr>"
      "<tr><th>发放月份</th><td>{}</td><th>行数</th><td class=\"n\">{}</td></tr>"
      "<tr><th>合计（元）</th><td class=\"n\" colspan=\"3\">{}</td></tr></table>",
      HtmlEscape(r.batch_id), StatusText(r.status), Named(r.fund, r.fund_name),
      HtmlEscape(r.bucket), FormatMonth(r.period), r.line_count, FormatFen(r.total_fen));
  h += Totals("按项目汇总", "项目", r.by_program) + Totals("按地区汇总", "地区", r.by_region);
  h += Comparison(r);
  h += "<h2>经办与审批</h2><table>" + Step("制单人", r.prepared) + Step("审批人", r.decided) +
       "</table>";
  h += fmt::format(
      "<p class=\"note\" id=\"read-at\">本表读自台账日志的前 {} 条（日志条目 "
      "#0–#{}），该处的树根哈希为 "
      "<code>{}</code>；可用 <code>fundledger verify</code> 或 <code>/v1/checkpoint</code> "
      "核对。</p>",
      r.read_at, r.read_at == 0 ? 0 : r.read_at - 1, HtmlEscape(root_hex));
  h += "<h2>签字</h2><table class=\"signatures\"><tr><th>经办人（签字）</th><td></td>"
       "<th>日期</th><td></td></tr><tr><th>复核人（签字）</th><td></td><th>日期</th><td></td></tr>"
       "<tr><th>科室负责人（签字）</th><td></td><th>日期</th><td></td></tr>"
       "<tr><th>分管领导（签字）</th><td></td><th>日期</th><td></td></tr></table>";
  return h + "</body></html>\n";
}

}  // namespace fundledger
