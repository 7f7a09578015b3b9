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

// Chinese sentences by code, or by code and column ("code|field") where the column decides.
const std::map<std::string, std::string, std::less<>>& ChineseSentences() {
  static const std::map<std::string, std::string, std::less<>> zh{
      {"invalid_argument|amount",
       "金额不对：须为大于零的元金额，最多两位小数，如 1045、1045.00、1,045.00 或 ¥1,045.00"},
      {"invalid_argument|amount_fen", "金额（分）须为大于零的整数"},
      {"invalid_argument|period", "月份不对：请写 2026-02、2026/02、2026年2月 或 202602"},
      {"invalid_argument|beneficiary_id", "没有写明人员：请填受益人编号或身份证号"},
      {"invalid_argument|program_id", "没有写明救助项目"},
      {"invalid_argument|id_number",
       "身份证号有误：须为18位且末位校验码正确（GB 11643），并与受益人编号是同一人"},
      {"invalid_argument|name", "姓名与该人员登记的姓名不一致"},
      {"invalid_argument|line", "这一行无法读取：列数与表头不符、引号未闭合或不是 JSON 对象"},
      {"unknown_beneficiary|id_number", "没有登记这个身份证号的人员"},
      {"unknown_beneficiary", "没有这个受益人编号的人员"},
      {"unknown_program", "没有这个救助项目，或这个名称对应多个项目（请填项目编号）"},
      {"unknown_fund", "没有这个资金"},
      {"fund_closed", "资金已关闭"},
      {"insufficient_funds", "资金余额不足以发放这份名册"},
      {"duplicate_id", "这个批次编号已经用过"},
      {"deceased", "该人员在发放月份之前已去世"},
      {"not_active", "该人员在发放月份不是正常状态（已暂停或已退出）"},
      {"not_enrolled", "该人员在发放月份没有纳入这个项目"},
      {"over_cap", "金额超过项目标准上限"},
      {"above_enrolled_amount", "金额超过核定的月发放金额"},
      {"program_not_allowed", "这笔资金不能发放这个项目"},
      {"program_not_effective", "项目在该月份没有生效的标准"},
      {"age_limit", "该人员在发放月份不符合项目的年龄条件"},
      {"excluded_combination", "该项目不能与该人员已享受的项目同时享受"},
      {"duplicate_payment", "该人员这个项目这个月份已经发放过（或本名册重复）"},
      {"duplicate_line_no", "行号重复"},
      {"beneficiary_erased", "该人员的个人信息已删除"},
      {"period_ahead", "发放月份超过名册月份一个月以上"},
      {"one_off_limit", "一次性项目发放次数超过限制"},
      {"amount_overflow", "金额合计超出范围"},
      {"conflict|account", "账号与这一行发放的账号不一致"},
      {"conflict|amount", "金额与这一行发放的金额不一致"},
      {"invalid_argument|status", "状态不对：请写 成功 或 失败/退回"},
      {"invalid_argument|reason", "退回的行须写明银行的退回原因"},
      {"invalid_argument|reference", "参考号不对：须为这个批次的 <批次编号>-<行号>"},
      {"unknown_line", "这个批次没有这一行"},
      {"line_not_paid", "这一行不是已发放状态（或已经退回），不能退回"},
  };
  return zh;
}

json::object ProblemJson(const Status& s, Language language) {
  json::object e;
  e["code"] = CodeOf(s);
  e["message"] = ProblemMessage(s, language);
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

Language PreferredLanguage(std::string_view accept_language) {
  size_t start = accept_language.find_first_not_of(" \t");
  if (start == std::string_view::npos) return Language::kEn;
  std::string_view first = accept_language.substr(start, 2);
  return first == "zh" || first == "ZH" || first == "Zh" ? Language::kZh : Language::kEn;
}

std::string ProblemMessage(const Status& problem, Language language) {
  if (language == Language::kEn) return problem.message();
  std::string code = CodeOf(problem);
  auto it = ChineseSentences().find(code + "|" + problem.field());
  if (it == ChineseSentences().end()) it = ChineseSentences().find(code);
  if (it == ChineseSentences().end()) return problem.message();
  return it->second + "（" + problem.message() + "）";
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
  bool zh = language == Language::kZh;
  if (problems.empty()) {
    Status s = roll_problem;
    s = Status(s.code(), ProblemMessage(s, language))
            .WithRule(s.rule())
            .WithField(s.field())
            .WithLine(s.line());
    return ErrorResponse(s);
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
  std::string message =
      zh ? "名册共 " + std::to_string(rows) + " 行，其中 " + std::to_string(bad_rows.size()) +
               " 行有问题（共 " + std::to_string(problems.size()) +
               " 个），全部未入账。第一个：第 " + std::to_string(first.line()) + " 行：" +
               ProblemMessage(first, language)
         : std::to_string(bad_rows.size()) + " of " + std::to_string(rows) + " lines have " +
               std::to_string(problems.size()) + " problems; nothing was posted. First: line " +
               std::to_string(first.line()) + ": " + first.message();
  json::object e;
  e["code"] = rule_violation ? std::string(RuleCodeName(RuleCode::kLinesRejected))
                             : std::string(StatusCodeName(StatusCode::kInvalidArgument));
  e["message"] = message;
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

std::string RollReportStore::Add(std::string csv) {
  std::string id = HashHex(Sha256::Digest(AsBytes(csv))).substr(0, 32);
  MutexLock lock(mu_);
  for (const Report& r : reports_) {
    if (r.id == id) return id;
  }
  bytes_ += csv.size();
  reports_.push_back({id, std::move(csv)});
  while (reports_.size() > 1 &&
         (reports_.size() > kRollReportsMax || bytes_ > kRollReportsBytesMax)) {
    bytes_ -= reports_.front().csv.size();
    reports_.pop_front();
  }
  return id;
}

std::optional<std::string> RollReportStore::Find(const std::string& id) const {
  MutexLock lock(mu_);
  for (const Report& r : reports_) {
    if (r.id == id) return r.csv;
  }
  return std::nullopt;
}

}  // namespace fundledger
