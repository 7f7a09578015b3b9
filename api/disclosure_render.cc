#include "api/disclosure_render.h"

#include <fmt/core.h>

#include <algorithm>
#include <boost/json.hpp>
#include <climits>
#include <filesystem>
#include <fstream>
#include <set>

#include "api/entry_json.h"
#include "api/shared_file.h"
#include "crypto/checkpoint.h"
#include "ledger/events.h"

namespace fundledger {
namespace json = boost::json;

std::string HtmlEscape(std::string_view s, bool in_attribute) {
  std::string out;
  for (char c : s) {
    if (!in_attribute && (c == '"' || c == '\'')) {
      out += c;
      continue;
    }
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

namespace {

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
      {"list_title", {"已公开的报告", "Published disclosures"}},
      {"period", {"期间", "Period"}},
      {"funds", {"资金", "Funds"}},
      {"lang", {"English", "中文"}},
      {"none", {"暂无已公开的报告", "No disclosures published yet"}},
      {"corrects", {"更正", "corrects"}},
      {"schedule_annual", {"年度报告", "Annual report"}},
      {"schedule_quarterly", {"季度报告", "Quarterly report"}},
  };
  return d;
}

// Both languages in the page; CSS shows the chosen one, so the switch needs no reload.
std::string T(const std::string& key) {
  auto it = Dictionary().find(key);
  if (it == Dictionary().end()) return HtmlEscape(key);
  return std::string("<span lang=\"zh\">") + it->second.zh + "</span><span lang=\"en\">" +
         it->second.en + "</span>";
}

// The page's document head and style, shared by the list and the report pages.
std::string Head(const std::string& title, const std::string& lang) {
  return fmt::format(R"(<!doctype html>
<html lang="{}" data-lang="{}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:1rem;max-width:60rem;margin:auto;color:#1b1b1b;line-height:1.5}}
h1{{font-size:1.4rem;margin:.6rem 0 .2rem}} h2{{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}}
.lead{{font-size:1.1rem;margin:.2rem 0}} dl{{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.5rem 0}} dt{{color:#555}} dd{{margin:0}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.95rem}} th,td{{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left;font-weight:normal}}
td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}} #balances td{{font-size:1.15rem;font-weight:600}}
.bar{{height:.8rem;background:#3a7bd5;display:inline-block;vertical-align:middle;min-width:1px}}
html[data-lang=zh] [lang=en],html[data-lang=en] [lang=zh]{{display:none}}
button{{font-size:1rem;padding:.4rem .9rem;margin:.3rem 0;cursor:pointer}} #lang-switch{{float:right}}
#verification{{border:2px solid #999;border-radius:.4rem;padding:.2rem .8rem;margin:1rem 0;background:#fafafa}}
#verification h2{{margin-top:.4rem;border:0}} #verification.valid{{border-color:#11772d;background:#f1faf3}} #verification.invalid{{border-color:#b00020;background:#fdf1f3}}
#verify-result{{font-weight:bold}} .valid #verify-result{{color:#11772d}} .invalid #verify-result{{color:#b00020}}
.warn{{color:#8a5a00}} .flag,tr.flag td{{color:#b00020;font-weight:600}} #figures.unverified{{opacity:.6}}
progress{{width:100%}} input[type=search]{{font-size:1rem;padding:.3rem;width:100%;box-sizing:border-box}}
code{{word-break:break-all;font-size:.8rem}}
@media (max-width:600px){{table{{font-size:.85rem}} body{{padding:.5rem}} dl{{grid-template-columns:1fr}}}}
</style></head><body>
)",
                     lang, lang, HtmlEscape(title));
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
  if (!r.names.empty()) {  // reports published before names were recorded stay byte-identical
    json::object names;
    for (const auto& [code, name] : r.names) names[code] = name;
    o["names"] = std::move(names);
  }
  json::array entries;
  for (uint64_t e : r.entries) entries.emplace_back(e);
  o["evidence"] = json::object{
      {"checkpoint_size", r.checkpoint_size},
      {"checkpoint", r.checkpoint},
      {"entries", std::move(entries)},
      {"entries_digest", HashHex(r.entries_digest)},
      {"digest_rule", "SHA-256 of the concatenated leaf hashes of the entries, in index order"}};
  if (!r.published_on.empty()) {  // a published report (api/disclosure_publication.h)
    o["interim"] = r.interim;
    o["published_on"] = r.published_on;
  }
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
  if (o.contains("names")) {
    for (const auto& kv : in.Object(o, "names"))
      r.names[std::string(kv.key())] = in.String(kv.value(), kv.key());
  }
  if (o.contains("published_on")) {
    r.published_on = in.String(o, "published_on");
    const json::value* interim = o.if_contains("interim");
    if (interim == nullptr || !interim->is_bool())
      return Corruption("the report's interim is not true or false");
    r.interim = interim->as_bool();
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

Status NameCodes(const Ledger& ledger, const std::string& data_dir, DisclosureReport& report) {
  std::set<std::string> programs, regions;
  for (const auto& [program, by_region] : report.paid_by_program_region) {
    programs.insert(program);
    for (const auto& [region, paid] : by_region) regions.insert(region);
  }
  for (const auto& [purpose, fen] : report.spending_by_purpose) programs.insert(purpose);
  for (const RecipientLine& l : report.recipients) {
    programs.insert(l.program);
    regions.insert(l.region);
  }
  ledger.domain().Read([&](const DomainState& s) {
    for (const std::string& p : programs) {
      auto it = s.programs.find(p);
      if (it != s.programs.end() && !it->second.name.empty())
        report.names["program:" + p] = it->second.name;
    }
    return 0;
  });
  FL_ASSIGN_OR_RETURN(auto names, ReadRegionNames(data_dir));
  for (const std::string& code : regions) {
    if (auto it = names.find(code); it != names.end()) report.names["region:" + code] = it->second;
  }
  return Status();
}

Result<std::map<std::string, std::string>> ReadRegionNames(const std::string& data_dir) {
  std::map<std::string, std::string> names;
  std::ifstream in(data_dir + "/" + kRegionNamesFile);
  std::string line;
  for (size_t n = 1; in && std::getline(in, line); ++n) {
    size_t tab = line.find('\t');
    if (line.empty() || line[0] == '#') continue;
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size())
      return InvalidArgument(std::string(kRegionNamesFile) + " line " + std::to_string(n) +
                             ": not 'code<TAB>name'");
    names[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return names;
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

std::string DisclosureHtml(std::string_view report_json, const std::string& lang, uint64_t index) {
  const bool en = lang == "en";
  std::string h = Head(en ? "Fund disclosure" : "资金信息公开", lang);
  // Every figure is drawn by the script from the report's exact bytes below, which it verifies;
  // nothing on this page shows a figure the script did not take from them.
  h += fmt::format("<main id=\"page\" data-index=\"{}\"><noscript><p>{}</p>", index,
                   en ? "This page needs JavaScript to show verified figures."
                      : "本页需要 JavaScript 才能显示经验证的数字。");
  if (index != 0) {
    h += fmt::format("<p><a href=\"/v1/disclosures/{}\">{}</a></p>", index,
                     en ? "Raw report data (JSON)" : "原始报告数据（JSON）");
  }
  h += "</noscript></main>\n<pre id=\"report-data\" hidden>" +
       HtmlEscape(report_json, /*in_attribute=*/false) + "</pre>\n";
  // A preview (not published) is a standalone file: the script goes inline.
  h += index != 0 ? "<script src=\"/static/verify.js\"></script>\n"
                  : std::string("<script>") + DisclosurePageScript() + "</script>\n";
  return h + "</body></html>\n";
}

std::string DisclosureListHtml(const std::vector<PublishedDisclosure>& list,
                               const std::string& origin, const std::string& lang) {
  std::string h = Head(origin, lang);
  h += "<button id=\"lang-switch\" "
       "onclick=\"var h=document.documentElement;var "
       "l=h.dataset.lang==='zh'?'en':'zh';h.dataset.lang=l;h.lang=l;\">" +
       T("lang") + "</button>";
  h += "<h1>" + T("list_title") + "</h1><p><code>" + HtmlEscape(origin) + "</code></p>";
  if (list.empty()) return h + "<p id=\"empty\">" + T("none") + "</p></body></html>\n";
  h += "<table id=\"disclosures\"><tr><th>#</th><th>" + T("funds") + "</th><th>" + T("period") +
       "</th><th></th></tr>";
  for (const PublishedDisclosure& d : list) {
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/disclosures/{}\">{}</a>{}</td></tr>",
        d.index,
        HtmlEscape(!d.fund_name.empty() ? d.fund_name
                   : d.fund.empty()     ? d.organisation
                                        : d.fund),
        HtmlEscape(d.period), d.index,
        Dictionary().count("schedule_" + d.schedule_item) != 0 ? T("schedule_" + d.schedule_item)
                                                               : HtmlEscape(d.schedule_item),
        d.corrects_index ? " (" + T("corrects") + " #" + std::to_string(d.corrects_index) + ")"
                         : "");
  }
  return h + "</table></body></html>\n";
}

}  // namespace fundledger
