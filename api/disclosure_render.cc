#include "api/disclosure_render.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <climits>
#include <filesystem>
#include <fstream>

#include "api/entry_json.h"
#include "api/shared_file.h"
#include "crypto/checkpoint.h"
#include "ledger/events.h"

namespace fundledger {
namespace json = boost::json;
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

json::object Map(const std::map<std::string, int64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// The words of the page in both languages; the page shows one set and switches with a button.
struct Words {
  const char* zh;
  const char* en;
};
const std::map<std::string, Words>& Dictionary() {
  static const std::map<std::string, Words> d{
      {"title", {"资金信息公开", "Fund disclosure"}},
      {"list_title", {"已公开的报告", "Published disclosures"}},
      {"period", {"期间", "Period"}},
      {"funds", {"资金", "Funds"}},
      {"opening", {"期初余额", "Opening balance"}},
      {"closing", {"期末余额", "Closing balance"}},
      {"receipts", {"收入", "Receipts"}},
      {"donations", {"捐赠", "Donations"}},
      {"restricted", {"定向", "restricted"}},
      {"open", {"非定向", "open"}},
      {"anonymous", {"匿名捐赠笔数", "anonymous donations"}},
      {"appropriations", {"财政拨款", "Appropriations"}},
      {"lottery_in", {"福彩公益金资助", "Lottery grants received"}},
      {"spending", {"支出（按类别）", "Spending by class"}},
      {"by_purpose", {"支出（按用途/项目）", "Spending by purpose or program"}},
      {"paid", {"发放（按项目与地区）", "Paid by program and region"}},
      {"people", {"人数", "people"}},
      {"households", {"户数", "households"}},
      {"ratios",
       {"比例（年度，保留一位小数，不向达标方向取整）",
        "Ratios (year; one decimal, never rounded toward the limit)"}},
      {"reconciliation",
       {"收支平衡（期初 + 流入 − 流出 = 期末）",
        "Reconciliation (opening + inflows − outflows = closing)"}},
      {"flow_donations", {"捐赠", "Donations"}},
      {"flow_appropriations", {"财政拨款", "Appropriations"}},
      {"flow_lottery_grants", {"福彩公益金资助", "Lottery grants received"}},
      {"flow_transfers_in", {"转入", "Transfers in"}},
      {"flow_releases_in", {"解除限定转入", "Released into this scope"}},
      {"flow_returns", {"退回（银行退票）", "Returned payments"}},
      {"flow_recoveries", {"追回", "Recoveries"}},
      {"flow_reversals", {"冲正", "Reversals"}},
      {"flow_payments", {"发放", "Payments"}},
      {"flow_reissues", {"补发", "Reissued payments"}},
      {"flow_expenses", {"支出", "Expenses"}},
      {"flow_grants", {"资助支出", "Grants made"}},
      {"flow_transfers_out", {"转出", "Transfers out"}},
      {"flow_releases_out", {"解除限定转出", "Released out of this scope"}},
      {"charitable_ratio", {"公益支出 / 上年收入", "charitable spending / last year's income"}},
      {"admin_ratio", {"管理费用 / 总支出", "admin costs / total spending"}},
      {"restricted_left", {"定向资金结余", "Restricted money left"}},
      {"recipients", {"受助人公示（姓名已脱敏）", "Recipients (names masked)"}},
      {"evidence", {"可验证依据", "Evidence"}},
      {"checkpoint", {"签名检查点", "Signed checkpoint"}},
      {"entries", {"涉及的日志条目", "Log entries in scope"}},
      {"digest", {"条目摘要", "Entries digest"}},
      {"verify", {"在浏览器中验证", "Verify in this browser"}},
      {"amount", {"金额（元）", "Amount (yuan)"}},
      {"name", {"姓名", "Name"}},
      {"region", {"地区", "Region"}},
      {"program", {"项目", "Program"}},
      {"lang", {"English", "中文"}},
      {"published", {"公开于条目", "Published as entry"}},
      {"none", {"暂无已公开的报告", "No disclosures published yet"}},
  };
  return d;
}

// Both languages in the page; CSS shows the chosen one, so the switch needs no reload.
std::string T(const std::string& key) {
  auto it = Dictionary().find(key);
  if (it == Dictionary().end()) return Escape(key);
  return std::string("<span lang=\"zh\">") + it->second.zh + "</span><span lang=\"en\">" +
         it->second.en + "</span>";
}

std::string Head(const std::string& title, const std::string& lang) {
  return fmt::format(R"(<!doctype html>
<html lang="{}" data-lang="{}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:1rem;max-width:60rem;margin:auto;color:#1b1b1b}}
h1{{font-size:1.4rem}} h2{{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.95rem}} th,td{{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left}}
td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}
.bar{{height:1rem;background:#3a7bd5;display:inline-block;vertical-align:middle}}
html[data-lang=zh] [lang=en],html[data-lang=en] [lang=zh]{{display:none}}
button{{font-size:1rem;padding:.4rem .9rem;margin:.3rem 0;cursor:pointer}}
#verify-result{{font-weight:bold;margin:.5rem 0}} .valid{{color:#11772d}} .invalid{{color:#b00020}}
code{{word-break:break-all;font-size:.8rem}}
@media (max-width:600px){{table{{font-size:.85rem}} body{{padding:.5rem}}}}
</style></head><body>
<button id="lang-switch" onclick="var h=document.documentElement;var l=h.dataset.lang==='zh'?'en':'zh';h.dataset.lang=l;h.lang=l;">{}</button>
)",
                     lang, lang, Escape(title), T("lang"));
}

std::string Yuan(int64_t fen) { return FormatFen(fen); }

// part x 100 / whole, rounded toward zero (whole != 0), in 128 bits so that scaling an amount
// near the int64 limit cannot overflow; a ratio beyond int64 (a tiny whole) is clamped.
int64_t PercentOf(int64_t part, int64_t whole) {
  __int128 percent = static_cast<__int128>(part) * 100 / whole;
  return static_cast<int64_t>(std::clamp<__int128>(percent, INT64_MIN, INT64_MAX));
}

// Reads a stored report's fields without exceptions: the first field missing or of the wrong
// type is remembered as a Corruption naming it, and reads return empty values from then on.
class ReportReader {
 public:
  const json::object& Object(const json::value& v, std::string_view what) {
    if (const json::object* o = v.if_object()) return *o;
    Missing(what);
    return kEmptyObject;
  }
  const json::object& Object(const json::object& in, std::string_view key) {
    const json::value* v = Find(in, key);
    return v != nullptr ? Object(*v, key) : kEmptyObject;
  }
  const json::array& Array(const json::object& in, std::string_view key) {
    const json::value* v = Find(in, key);
    if (const json::array* a = v != nullptr ? v->if_array() : nullptr) return *a;
    Missing(key);
    return kEmptyArray;
  }
  std::string String(const json::value& v, std::string_view what) {
    if (const json::string* s = v.if_string()) return std::string(*s);
    Missing(what);
    return "";
  }
  std::string String(const json::object& in, std::string_view key) {
    const json::value* v = Find(in, key);
    return v != nullptr ? String(*v, key) : "";
  }
  int64_t I64(const json::object& in, std::string_view key) {
    const json::value* v = Find(in, key);
    return v != nullptr ? Number<int64_t>(*v, key) : 0;
  }
  uint64_t U64(const json::value& v, std::string_view what) { return Number<uint64_t>(v, what); }
  uint64_t U64(const json::object& in, std::string_view key) {
    const json::value* v = Find(in, key);
    return v != nullptr ? U64(*v, key) : 0;
  }
  std::map<std::string, int64_t> Map(const json::object& in, std::string_view key) {
    std::map<std::string, int64_t> m;
    for (const auto& kv : Object(in, key))
      m[std::string(kv.key())] = Number<int64_t>(kv.value(), key);
    return m;
  }
  const Status& status() const { return status_; }

 private:
  const json::value* Find(const json::object& in, std::string_view key) {
    const json::value* v = in.if_contains(key);
    if (v == nullptr) Missing(key);
    return v;
  }
  template <typename T>
  T Number(const json::value& v, std::string_view what) {
    boost::system::error_code ec;
    T n = v.is_number() ? v.to_number<T>(ec) : T{};
    if (v.is_number() && !ec) return n;
    Missing(what);
    return T{};
  }
  void Missing(std::string_view what) {
    if (status_.ok()) status_ = Corruption("the report lacks a field: " + std::string(what));
  }

  inline static const json::object kEmptyObject;
  inline static const json::array kEmptyArray;
  Status status_;
};

void ReadReceipts(ReportReader& in, const json::object& rc, DisclosureReport& r) {
  r.donations_count = in.I64(rc, "donations_count");
  r.donations_fen = in.I64(rc, "donations_fen");
  r.donations_restricted_fen = in.I64(rc, "donations_restricted_fen");
  r.donations_open_fen = in.I64(rc, "donations_open_fen");
  r.anonymous_donations = in.I64(rc, "anonymous_donations");
  r.in_kind_fen = in.I64(rc, "in_kind_fen");
  r.appropriations_fen = in.I64(rc, "appropriations_fen");
  r.lottery_grants_in_fen = in.I64(rc, "lottery_grants_in_fen");
  r.transfers_in_fen = in.I64(rc, "transfers_in_fen");
}

// Money received: donations, appropriations, lottery grants.
void ReceiptsHtml(const DisclosureReport& r, std::string& h) {
  h += "<h2>" + T("receipts") + "</h2><table id=\"receipts\">";
  h += "<tr><th>" + T("donations") + "</th><td class=\"n\" id=\"donations\">" +
       Yuan(r.donations_fen) + "</td><td>" + std::to_string(r.donations_count) + " · " +
       T("restricted") + " " + Yuan(r.donations_restricted_fen) + " · " + T("open") + " " +
       Yuan(r.donations_open_fen) + "</td></tr>";
  h += "<tr><th>" + T("anonymous") + "</th><td class=\"n\">" +
       std::to_string(r.anonymous_donations) + "</td><td></td></tr>";
  h += "<tr><th>" + T("appropriations") + "</th><td class=\"n\">" + Yuan(r.appropriations_fen) +
       "</td><td></td></tr>";
  h += "<tr><th>" + T("lottery_in") + "</th><td class=\"n\">" + Yuan(r.lottery_grants_in_fen) +
       "</td><td></td></tr></table>\n";
}

// Spending by class and by purpose, each purpose with a bar scaled to the largest.
void SpendingHtml(const DisclosureReport& r, std::string& h) {
  int64_t max_spend = 1;
  for (const auto& [k, v] : r.spending_by_purpose) max_spend = std::max(max_spend, v);
  h += "<h2>" + T("spending") + "</h2><table id=\"spending-class\">";
  for (const auto& [k, v] : r.spending_by_class) {
    h += "<tr><th>" + Escape(k) + "</th><td class=\"n\">" + Yuan(v) + "</td></tr>";
  }
  h += "</table>\n<h2>" + T("by_purpose") + "</h2><table id=\"spending-purpose\">";
  for (const auto& [k, v] : r.spending_by_purpose) {
    h += fmt::format(
        "<tr><th>{}</th><td class=\"n\">{}</td><td style=\"width:40%\"><span class=\"bar\" "
        "style=\"width:{}%\"></span></td></tr>",
        Escape(k), Yuan(v), PercentOf(v, max_spend));
  }
  h += "</table>\n";
}

// Payments to people per program and region.
void PaidHtml(const DisclosureReport& r, std::string& h) {
  if (!r.paid_by_program_region.empty()) {
    h += "<h2>" + T("paid") + "</h2><table id=\"paid\"><tr><th>" + T("program") + "</th><th>" +
         T("region") + "</th><th class=\"n\">" + T("amount") + "</th><th class=\"n\">" +
         T("people") + "</th><th class=\"n\">" + T("households") + "</th></tr>";
    for (const auto& [program, regions] : r.paid_by_program_region) {
      for (const auto& [region, p] : regions) {
        h += fmt::format(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
            "class=\"n\">{}</td></tr>",
            Escape(program), Escape(region), Yuan(p.amount_fen), p.beneficiaries, p.households);
      }
    }
    h += "</table>\n";
  }
}

// The reconciliation: opening, each inflow and outflow line, closing.
void ReconciliationHtml(const DisclosureReport& r, std::string& h) {
  h += "<h2>" + T("reconciliation") + "</h2><table id=\"reconciliation\"><tr><th>" + T("opening") +
       "</th><td class=\"n\">" + Yuan(r.opening_fen) + "</td></tr>";
  for (const auto& [line, fen] : r.inflows) {
    h += "<tr><th>+ " + T("flow_" + line) + "</th><td class=\"n\" id=\"in-" + Escape(line) + "\">" +
         Yuan(fen) + "</td></tr>";
  }
  for (const auto& [line, fen] : r.outflows) {
    h += "<tr><th>&minus; " + T("flow_" + line) + "</th><td class=\"n\" id=\"out-" + Escape(line) +
         "\">" + Yuan(fen) + "</td></tr>";
  }
  h += "<tr><th>= " + T("closing") + "</th><td class=\"n\">" + Yuan(r.closing_fen) +
       "</td></tr></table>\n";
}

// The charity-law ratios: charitable spending to last year's income, admin to spending.
void RatiosHtml(const DisclosureReport& r, std::string& h) {
  h += "<h2>" + T("ratios") + "</h2><table id=\"ratios\">";
  h += "<tr><th>" + T("charitable_ratio") + "</th><td class=\"n\">" +
       PercentText(r.year_charitable_fen, r.previous_year_income_fen, PercentLimit::kAtLeast) +
       "</td><td>" + Yuan(r.year_charitable_fen) + " / " + Yuan(r.previous_year_income_fen) +
       "</td></tr>";
  h += "<tr><th>" + T("admin_ratio") + "</th><td class=\"n\">" +
       PercentText(r.year_admin_fen, r.year_spending_fen, PercentLimit::kAtMost) + "</td><td>" +
       Yuan(r.year_admin_fen) + " / " + Yuan(r.year_spending_fen) + "</td></tr></table>\n";
}

// Restricted money left, and the (masked) recipients when published with them.
void RestrictedAndRecipientsHtml(const DisclosureReport& r, std::string& h) {
  if (!r.restricted_left.empty()) {
    h += "<h2>" + T("restricted_left") + "</h2><table id=\"restricted\">";
    for (const auto& [k, v] : r.restricted_left)
      h += "<tr><th>" + Escape(k) + "</th><td class=\"n\">" + Yuan(v) + "</td></tr>";
    h += "</table>\n";
  }
  if (!r.recipients.empty()) {
    h += "<h2>" + T("recipients") + "</h2><table id=\"recipients\"><tr><th>" + T("name") +
         "</th><th>" + T("region") + "</th><th>" + T("program") + "</th><th class=\"n\">" +
         T("amount") + "</th></tr>";
    for (const RecipientLine& l : r.recipients) {
      h += "<tr><td>" + Escape(l.masked_name) + "</td><td>" + Escape(l.region) + "</td><td>" +
           Escape(l.program) + "</td><td class=\"n\">" + Yuan(l.amount_fen) + "</td></tr>";
    }
    h += "</table>\n";
  }
}

}  // namespace

std::string DisclosureJson(const DisclosureReport& r) {
  json::object o;
  o["format"] = kDisclosureFormat;
  o["scope"] = json::object{{"kind", r.scope.kind}, {"id", r.scope.id}, {"period", r.scope.period}};
  o["organisation"] = r.organisation;
  json::object funds;
  for (const std::string& f : r.funds) {
    auto it = r.fund_names.find(f);
    funds[f] = it == r.fund_names.end() ? "" : it->second;
  }
  o["funds"] = std::move(funds);
  o["period_start_ms"] = r.period_start_ms;
  o["period_end_ms"] = r.period_end_ms;
  o["opening_fen"] = r.opening_fen;
  o["closing_fen"] = r.closing_fen;
  o["receipts"] = json::object{{"donations_count", r.donations_count},
                               {"donations_fen", r.donations_fen},
                               {"donations_restricted_fen", r.donations_restricted_fen},
                               {"donations_open_fen", r.donations_open_fen},
                               {"anonymous_donations", r.anonymous_donations},
                               {"in_kind_fen", r.in_kind_fen},
                               {"appropriations_fen", r.appropriations_fen},
                               {"lottery_grants_in_fen", r.lottery_grants_in_fen},
                               {"transfers_in_fen", r.transfers_in_fen}};
  o["spending_by_class"] = Map(r.spending_by_class);
  o["spending_by_purpose"] = Map(r.spending_by_purpose);
  o["grants_out_by_category"] = Map(r.grants_out_by_category);
  o["transfers_out_fen"] = r.transfers_out_fen;
  o["reconciliation"] = json::object{{"opening_fen", r.opening_fen},
                                     {"inflows", Map(r.inflows)},
                                     {"outflows", Map(r.outflows)},
                                     {"closing_fen", r.closing_fen},
                                     {"identity", "opening + inflows - outflows = closing"}};
  json::object paid;
  for (const auto& [program, regions] : r.paid_by_program_region) {
    json::object by_region;
    for (const auto& [region, p] : regions) {
      by_region[region] = json::object{{"amount_fen", p.amount_fen},
                                       {"beneficiaries", p.beneficiaries},
                                       {"households", p.households}};
    }
    paid[program] = std::move(by_region);
  }
  o["paid_by_program_region"] = std::move(paid);
  o["ratios"] = json::object{{"previous_year_income_fen", r.previous_year_income_fen},
                             {"year_charitable_fen", r.year_charitable_fen},
                             {"year_admin_fen", r.year_admin_fen},
                             {"year_spending_fen", r.year_spending_fen}};
  o["restricted_left"] = Map(r.restricted_left);
  json::array recipients;
  for (const RecipientLine& l : r.recipients) {
    recipients.push_back(json::object{{"name", l.masked_name},
                                      {"region", l.region},
                                      {"program", l.program},
                                      {"amount_fen", l.amount_fen}});
  }
  o["recipients"] = std::move(recipients);
  json::array entries;
  for (uint64_t e : r.entries) entries.emplace_back(e);
  o["evidence"] = json::object{
      {"checkpoint_size", r.checkpoint_size},
      {"checkpoint", r.checkpoint},
      {"entries", std::move(entries)},
      {"entries_digest", HashHex(r.entries_digest)},
      {"digest_rule", "SHA-256 of the concatenated leaf hashes of the entries, in index order"}};
  return json::serialize(o);
}

Result<DisclosureReport> DisclosureFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* root = ec ? nullptr : v.if_object();
  if (root == nullptr) return Corruption("the report is not JSON");
  const json::object& o = *root;
  ReportReader in;
  if (std::string format = in.String(o, "format"); format != kDisclosureFormat)
    return Corruption("the report's format is '" + format + "', not " + kDisclosureFormat);
  DisclosureReport r;
  const json::object& scope = in.Object(o, "scope");
  r.scope = {in.String(scope, "kind"), in.String(scope, "id"), in.String(scope, "period")};
  r.organisation = in.String(o, "organisation");
  for (const auto& kv : in.Object(o, "funds")) {
    r.funds.emplace_back(kv.key());
    r.fund_names[std::string(kv.key())] = in.String(kv.value(), kv.key());
  }
  r.period_start_ms = in.I64(o, "period_start_ms");
  r.period_end_ms = in.I64(o, "period_end_ms");
  r.opening_fen = in.I64(o, "opening_fen");
  r.closing_fen = in.I64(o, "closing_fen");
  ReadReceipts(in, in.Object(o, "receipts"), r);
  r.spending_by_class = in.Map(o, "spending_by_class");
  r.spending_by_purpose = in.Map(o, "spending_by_purpose");
  r.grants_out_by_category = in.Map(o, "grants_out_by_category");
  r.transfers_out_fen = in.I64(o, "transfers_out_fen");
  const json::object& rec = in.Object(o, "reconciliation");
  r.inflows = in.Map(rec, "inflows");
  r.outflows = in.Map(rec, "outflows");
  for (const auto& program : in.Object(o, "paid_by_program_region")) {
    for (const auto& region : in.Object(program.value(), program.key())) {
      const json::object& p = in.Object(region.value(), region.key());
      r.paid_by_program_region[std::string(program.key())][std::string(region.key())] =
          DisclosureReport::Paid{in.I64(p, "amount_fen"), in.I64(p, "beneficiaries"),
                                 in.I64(p, "households")};
    }
  }
  const json::object& ratios = in.Object(o, "ratios");
  r.previous_year_income_fen = in.I64(ratios, "previous_year_income_fen");
  r.year_charitable_fen = in.I64(ratios, "year_charitable_fen");
  r.year_admin_fen = in.I64(ratios, "year_admin_fen");
  r.year_spending_fen = in.I64(ratios, "year_spending_fen");
  r.restricted_left = in.Map(o, "restricted_left");
  for (const json::value& l : in.Array(o, "recipients")) {
    const json::object& x = in.Object(l, "recipients");
    r.recipients.push_back({in.String(x, "name"), in.String(x, "region"), in.String(x, "program"),
                            in.I64(x, "amount_fen")});
  }
  const json::object& ev = in.Object(o, "evidence");
  r.checkpoint_size = in.U64(ev, "checkpoint_size");
  r.checkpoint = in.String(ev, "checkpoint");
  for (const json::value& e : in.Array(ev, "entries")) r.entries.push_back(in.U64(e, "entries"));
  std::string digest = in.String(ev, "entries_digest");
  FL_RETURN_IF_ERROR(in.status());
  FL_ASSIGN_OR_RETURN(r.entries_digest, HashFromHex(digest));
  FL_RETURN_IF_ERROR(CheckReconciliation(r));
  return r;
}

Result<PublicationResult> PublishDisclosure(Ledger& ledger, const std::string& data_dir,
                                            const DisclosureScope& scope,
                                            const std::string& schedule_item,
                                            uint64_t corrects_index, const NameLookup& names,
                                            const Actor& actor,
                                            const std::string& idempotency_key) {
  FL_ASSIGN_OR_RETURN(std::string note, ledger.log().LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(note, ledger.log().verifier()));
  FL_ASSIGN_OR_RETURN(DisclosureReport report,
                      ComputeDisclosure(ledger.log(), cp.size, scope, names));
  std::string text = DisclosureJson(report);
  FL_ASSIGN_OR_RETURN(std::string sha,
                      StoreDisclosureText(data_dir, text));  // before the entry that names it
  fb::DisclosurePublishedT e;
  e.organisation = report.organisation.empty() ? scope.id : report.organisation;
  e.fund_id = scope.kind == "fund" ? scope.id : "";
  e.period = scope.period;
  e.schedule_item = schedule_item;
  Bytes hash = *HexDecode(sha);
  e.report_sha256.assign(hash.begin(), hash.end());
  e.checkpoint_size = cp.size;
  e.corrects_index = corrects_index;
  FL_ASSIGN_OR_RETURN(AppendResult r, ledger.Submit(actor, idempotency_key, {e}));
  return PublicationResult{r, sha, cp.size, report.entries.size()};
}

Result<std::string> StoreDisclosureText(const std::string& data_dir, const std::string& text) {
  std::string sha = HashHex(Sha256::Digest(AsBytes(text)));
  std::string dir = data_dir + "/disclosures";
  FL_RETURN_IF_ERROR(MakePrivateDirectory(dir, "the report store"));
  FL_RETURN_IF_ERROR(SharedFile(dir + "/" + sha + ".json", "the report").Replace(text));
  return sha;
}

Result<std::string> LoadDisclosureText(const std::string& data_dir, const std::string& sha) {
  std::ifstream in(data_dir + "/disclosures/" + sha + ".json", std::ios::binary);
  if (!in) return NotFound("the published report " + sha + " is not in the report store");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (HashHex(Sha256::Digest(AsBytes(text))) != sha)
    return Corruption("the stored report " + sha + " was changed");
  return text;
}

std::string DisclosureCsv(const DisclosureReport& r) {
  std::string out = "section,key,subkey,value\n";
  auto row = [&](const std::string& section, const std::string& key, const std::string& sub,
                 const std::string& value) {
    out += section + "," + key + "," + sub + "," + value + "\n";
  };
  row("scope", r.scope.kind, r.scope.id, r.scope.period);
  row("balance", "opening_fen", "", std::to_string(r.opening_fen));
  row("balance", "closing_fen", "", std::to_string(r.closing_fen));
  for (const auto& [k, v] : r.inflows) row("inflows", k, "", std::to_string(v));
  for (const auto& [k, v] : r.outflows) row("outflows", k, "", std::to_string(v));
  row("receipts", "donations_fen", "", std::to_string(r.donations_fen));
  row("receipts", "donations_count", "", std::to_string(r.donations_count));
  row("receipts", "donations_restricted_fen", "", std::to_string(r.donations_restricted_fen));
  row("receipts", "appropriations_fen", "", std::to_string(r.appropriations_fen));
  row("receipts", "lottery_grants_in_fen", "", std::to_string(r.lottery_grants_in_fen));
  for (const auto& [k, v] : r.spending_by_class) row("spending_by_class", k, "", std::to_string(v));
  for (const auto& [k, v] : r.spending_by_purpose)
    row("spending_by_purpose", k, "", std::to_string(v));
  for (const auto& [program, regions] : r.paid_by_program_region) {
    for (const auto& [region, p] : regions) {
      row("paid", program, region,
          std::to_string(p.amount_fen) + " fen " + std::to_string(p.beneficiaries) + " people");
    }
  }
  for (const auto& [k, v] : r.restricted_left) row("restricted_left", k, "", std::to_string(v));
  row("evidence", "checkpoint_size", "", std::to_string(r.checkpoint_size));
  row("evidence", "entries_digest", "", HashHex(r.entries_digest));
  return out;
}

std::string DisclosureHtml(const DisclosureReport& r, const std::string& lang, uint64_t index) {
  std::string title = r.scope.id + " " + r.scope.period;
  std::string h = Head(title, lang);
  h += fmt::format("<h1>{} <span id=\"scope\">{}</span> · {} <span id=\"period\">{}</span></h1>\n",
                   T("title"), Escape(r.scope.id), T("period"), Escape(r.scope.period));
  h += "<p>" + T("funds") + ": ";
  for (const std::string& f : r.funds) {
    auto it = r.fund_names.find(f);
    h += Escape(f) + (it != r.fund_names.end() ? " (" + Escape(it->second) + ")" : "") + " ";
  }
  h += "</p>\n<table id=\"balances\"><tr><th>" + T("opening") +
       "</th><td class=\"n\" id=\"opening\">" + Yuan(r.opening_fen) + "</td></tr><tr><th>" +
       T("closing") + "</th><td class=\"n\" id=\"closing\">" + Yuan(r.closing_fen) +
       "</td></tr></table>\n";
  ReconciliationHtml(r, h);
  ReceiptsHtml(r, h);
  SpendingHtml(r, h);
  PaidHtml(r, h);
  RatiosHtml(r, h);
  RestrictedAndRecipientsHtml(r, h);
  h += "<h2>" + T("evidence") + "</h2><p>" + T("checkpoint") + ": " +
       std::to_string(r.checkpoint_size) + " · " + T("entries") + ": " +
       std::to_string(r.entries.size()) + " · " + T("digest") + ": <code>" +
       HashHex(r.entries_digest) + "</code></p>\n";
  if (index != 0) {
    h += "<p>" + T("published") + " " + std::to_string(index) + "</p>";
    h += fmt::format(
        "<button id=\"verify\" onclick=\"verifyDisclosure({})\">{}</button><div "
        "id=\"verify-result\"></div>\n",
        index, T("verify"));
    h += "<script src=\"/static/verify.js\"></script>\n";
  }
  h += "</body></html>\n";
  return h;
}

std::string DisclosureListHtml(const std::vector<PublishedDisclosure>& list,
                               const std::string& origin, const std::string& lang) {
  std::string h = Head(origin, lang);
  h += "<h1>" + T("list_title") + "</h1><p><code>" + Escape(origin) + "</code></p>";
  if (list.empty()) return h + "<p id=\"empty\">" + T("none") + "</p></body></html>\n";
  h += "<table id=\"disclosures\"><tr><th>#</th><th>" + T("funds") + "</th><th>" + T("period") +
       "</th><th></th></tr>";
  for (const PublishedDisclosure& d : list) {
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/disclosures/{}\">{}</a>{}</td></tr>",
        d.index, Escape(d.fund.empty() ? d.organisation : d.fund), Escape(d.period), d.index,
        Escape(d.schedule_item),
        d.corrects_index ? " (corrects #" + std::to_string(d.corrects_index) + ")" : "");
  }
  return h + "</table></body></html>\n";
}

const char* DisclosureVerifyScript() {
  // Runs in the reader's browser with WebCrypto only: nothing the server says is trusted
  // beyond the bytes it serves, which are checked against the log's key.
  return R"JS(
"use strict";
const hex = (b) => Array.from(new Uint8Array(b)).map((x) => x.toString(16).padStart(2, "0")).join("");
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const unhex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
const concat = (...parts) => { const n = parts.reduce((a, p) => a + p.length, 0); const o = new Uint8Array(n); let i = 0; for (const p of parts) { o.set(p, i); i += p.length; } return o; };
const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
const leafHash = (entry) => sha256(concat(new Uint8Array([0]), entry));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function verifyNote(note, vkey) {
  // vkey: name+hexid+base64(0x01 || key). Note: text, blank line, "— name base64(id || sig)".
  // name+id+key: split at the first two '+' only (base64 may hold '+').
  const v = vkey.trim(), a = v.indexOf("+"), b = v.indexOf("+", a + 1);
  const name = v.slice(0, a), idHex = v.slice(a + 1, b), keyB64 = v.slice(b + 1);
  const key = unb64(keyB64);
  if (key[0] !== 1) throw new Error("not an Ed25519 key");
  const split = note.lastIndexOf("\n\n");
  const text = note.slice(0, split + 1);
  for (const line of note.slice(split + 2).split("\n")) {
    const m = line.match(/^\u2014 (\S+) (\S+)$/);
    if (!m || m[1] !== name) continue;
    const blob = unb64(m[2]);
    if (hex(blob.slice(0, 4)) !== idHex) continue;
    const pub = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
    if (await crypto.subtle.verify({ name: "Ed25519" }, pub, blob.slice(4), new TextEncoder().encode(text))) {
      const [origin, size, root] = text.split("\n");
      if (origin !== name) throw new Error("checkpoint origin is not the key's name");
      return { size: BigInt(size), root: unb64(root) };
    }
    throw new Error("the checkpoint signature does not verify");
  }
  throw new Error("the checkpoint is not signed by the ledger's key");
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

async function checkDisclosure(index) {
  const vkey = await (await fetch("/v1/key")).text();
  const ev = await (await fetch("/v1/disclosures/" + index + "/evidence")).json();
  // 1. The log as it is now, signed by the ledger's key; the DisclosurePublished entry in it.
  const now = await verifyNote(ev.checkpoint, vkey);
  const pub = unb64(ev.published.raw);
  if (!(await verifyInclusion(ev.published.index, now.size, await leafHash(pub), ev.published.proof, now.root))) {
    throw new Error("the publication entry is not in the signed log");
  }
  // 2. The report is the one the entry names: its SHA-256 is in the entry's bytes.
  const report = new TextEncoder().encode(ev.report);
  const h = await sha256(report);
  let found = false;
  for (let i = 0; i + 32 <= pub.length && !found; i++) found = same(pub.slice(i, i + 32), h);
  if (!found) throw new Error("the report differs from the one published (its hash is not in the entry)");
  // 3. The report's own checkpoint, and every entry in its scope, with their digest.
  const rep = JSON.parse(ev.report);
  const at = await verifyNote(rep.evidence.checkpoint, vkey);
  const leaves = [];
  for (const e of ev.entries) {
    const leaf = await leafHash(unb64(e.raw));
    if (!(await verifyInclusion(e.index, at.size, leaf, e.proof, at.root))) throw new Error("entry " + e.index + " is not in the report's checkpoint");
    leaves.push(leaf);
  }
  if (JSON.stringify(ev.entries.map((e) => e.index)) !== JSON.stringify(rep.evidence.entries)) throw new Error("the entries are not the ones the report names");
  if (hex(await sha256(concat(...leaves))) !== rep.evidence.entries_digest) throw new Error("the entries digest does not match");
  return { entries: ev.entries.length, size: at.size };
}

async function verifyDisclosure(index) {
  const out = document.getElementById("verify-result");
  out.className = "";
  out.textContent = "…";
  try {
    const r = await checkDisclosure(index);
    out.className = "valid";
    out.dataset.result = "valid";
    out.innerHTML = '<span lang="zh">验证通过：报告与签名日志一致（' + r.entries + ' 条目）</span><span lang="en">Valid: the report matches the signed log (' + r.entries + " entries)</span>";
  } catch (e) {
    out.className = "invalid";
    out.dataset.result = "invalid";
    out.innerHTML = '<span lang="zh">验证失败：</span><span lang="en">Invalid: </span>' + e.message.replace(/[<>&]/g, "");
  }
}
)JS";
}

}  // namespace fundledger
