#include "api/roll_report.h"

#include <boost/json.hpp>
#include <map>
#include <set>

#include "crypto/sha256.h"
#include "ledger/rule_code.h"

namespace fundledger {
namespace json = boost::json;
namespace {

std::string CodeOf(const Status& s) {
  return s.rule().empty() ? std::string(StatusCodeName(s.code())) : s.rule();
}

json::object ProblemJson(const Status& s, Language language) {
  json::object translations = Translations(s);
  json::object e;
  e["code"] = CodeOf(s);
  e["message"] = translations[language == Language::kZh ? "zh" : "en"];  // each written once
  e["translations"] = std::move(translations);
  if (!s.field().empty()) e["field"] = s.field();
  if (s.line() != 0) e["line"] = s.line();
  return e;
}

std::string CsvCell(std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string ProblemMessage(const Status& problem, Language language) {
  return LocalizedMessage(problem, language);
}

json::object Translations(const Status& problem) {
  return json::object{{"en", ProblemMessage(problem, Language::kEn)},
                      {"zh", ProblemMessage(problem, Language::kZh)}};
}

Status LocalizedStatus(const Status& problem, Language language) {
  return Status(problem.code(), ProblemMessage(problem, language))
      .WithRule(problem.rule())
      .WithField(problem.field())
      .WithLine(problem.line());
}

std::string RollProblemsCsv(const std::vector<Status>& problems, Language language) {
  std::string csv = "\xEF\xBB\xBF";
  csv += language == Language::kZh ? "行号,列,代码,问题\r\n" : "row,column,code,problem\r\n";
  for (const Status& p : problems) {
    csv += (p.line() ? std::to_string(p.line()) : std::string()) + "," + CsvCell(p.field()) + "," +
           CsvCell(CodeOf(p)) + "," + CsvCell(ProblemMessage(p, language)) + "\r\n";
  }
  return csv;
}

HttpResponse RollRejection(const std::vector<Status>& problems, const Status& roll_problem,
                           size_t rows, const std::string& report_id, Language language) {
  if (problems.empty()) {
    return JsonResponse(
        HttpStatusFor(roll_problem.code()),
        json::serialize(json::object{{"error", ProblemJson(roll_problem, language)}}));
  }
  std::map<std::pair<std::string, std::string>, size_t> counts;
  std::set<uint64_t> bad_rows;
  bool rule_violation = false;
  for (const Status& p : problems) {
    ++counts[{CodeOf(p), p.field()}];
    bad_rows.insert(p.line());
    rule_violation |= p.code() == StatusCode::kRuleViolation;
  }
  const Status& first = problems.front();
  std::string zh = "名册共 " + std::to_string(rows) + " 行，其中 " +
                   std::to_string(bad_rows.size()) + " 行有问题（共 " +
                   std::to_string(problems.size()) + " 个），全部未入账。第一个：第 " +
                   std::to_string(first.line()) + " 行：" + ProblemMessage(first, Language::kZh);
  std::string en = std::to_string(bad_rows.size()) + " of " + std::to_string(rows) +
                   " lines have " + std::to_string(problems.size()) +
                   " problems; nothing was posted. First: line " + std::to_string(first.line()) +
                   ": " + first.message();
  json::object e;
  e["code"] = rule_violation ? std::string(RuleCodeName(RuleCode::kLinesRejected))
                             : std::string(StatusCodeName(StatusCode::kInvalidArgument));
  e["message"] = language == Language::kZh ? zh : en;
  e["translations"] = json::object{{"en", en}, {"zh", zh}};
  e["line"] = first.line();
  json::array details;
  for (size_t i = 0; i < problems.size() && i < kRollReportInlineMax; ++i)
    details.push_back(ProblemJson(problems[i], language));
  e["details"] = std::move(details);
  e["details_total"] = problems.size();
  json::array summary;
  for (const auto& [key, count] : counts)
    summary.push_back(json::object{{"code", key.first}, {"field", key.second}, {"count", count}});
  e["summary"] = std::move(summary);
  e["report_id"] = report_id;
  e["report"] = "/v1/roll-reports/" + report_id;
  return JsonResponse(rule_violation ? 422 : 400, json::serialize(json::object{{"error", e}}));
}

std::string RollReportStore::Add(std::vector<Status> problems, Language language) {
  const std::string english = RollProblemsCsv(problems, Language::kEn);
  Report report{HashHex(Sha256::Digest(AsBytes(english))).substr(0, 32),
                std::make_shared<const std::vector<Status>>(std::move(problems)), language,
                english.size()};
  MutexLock lock(mu_);
  for (const Report& r : reports_) {
    if (r.id == report.id) return r.id;
  }
  bytes_ += report.bytes;
  reports_.push_back(report);
  while (reports_.size() > 1 &&
         (reports_.size() > kRollReportsMax || bytes_ > kRollReportsBytesMax)) {
    bytes_ -= reports_.front().bytes;
    reports_.pop_front();
  }
  return report.id;
}

std::optional<RollReportStore::Report> RollReportStore::Find(const std::string& id) const {
  MutexLock lock(mu_);
  for (const Report& r : reports_) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

}  // namespace fundledger
