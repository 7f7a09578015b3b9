#include "api/roll_parser.h"

#include <boost/json.hpp>
#include <charconv>
#include <map>

namespace fundledger {
namespace json = boost::json;
namespace {

enum class Column { kBeneficiary, kProgram, kPeriod, kAmountYuan, kAmountFen, kIgnored };

const std::map<std::string, Column, std::less<>>& ColumnNames() {
  static const std::map<std::string, Column, std::less<>> names{
      {"beneficiary_id", Column::kBeneficiary},
      {"受益人编号", Column::kBeneficiary},
      {"对象编号", Column::kBeneficiary},
      {"人员编号", Column::kBeneficiary},
      {"program_id", Column::kProgram},
      {"项目", Column::kProgram},
      {"项目编号", Column::kProgram},
      {"救助项目", Column::kProgram},
      {"period", Column::kPeriod},
      {"期间", Column::kPeriod},
      {"发放月份", Column::kPeriod},
      {"所属期", Column::kPeriod},
      {"amount", Column::kAmountYuan},
      {"金额", Column::kAmountYuan},
      {"发放金额", Column::kAmountYuan},
      {"amount_fen", Column::kAmountFen},
      {"金额（分）", Column::kAmountFen},
  };
  return names;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits one CSV record (RFC 4180 quoting) into fields. False on an unterminated quote.
bool SplitCsv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::string(Trim(cur)));
      cur.clear();
    } else {
      cur += c;
    }
  }
  fields.push_back(std::string(Trim(cur)));
  return !quoted;
}

Status LineError(uint64_t line, const char* field, std::string message) {
  return InvalidArgument(std::move(message)).WithField(field).WithLine(line);
}

Result<int32_t> PeriodFrom(std::string_view text) {
  if (text.size() == 6 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int32_t m = 0;
    std::from_chars(text.data(), text.data() + 6, m);
    if (IsValidMonth(m)) return m;
  }
  return ParseMonth(text);
}

// Fills one RollLine from field texts; returns the first problem.
Status MakeLine(uint64_t line_no, std::string_view ben, std::string_view prog,
                std::string_view period, std::string_view amount, bool amount_in_fen,
                int32_t default_period, RollLine& out) {
  out.line_no = static_cast<uint32_t>(line_no);
  if (!IsValidId(ben))
    return LineError(
        line_no, "beneficiary_id",
        "beneficiary id '" + std::string(ben.substr(0, 64)) + "' is empty or malformed");
  if (!IsValidId(prog))
    return LineError(line_no, "program_id",
                     "program id '" + std::string(prog.substr(0, 64)) + "' is empty or malformed");
  out.beneficiary = std::string(ben);
  out.program = std::string(prog);
  if (period.empty()) {
    out.period = default_period;
  } else {
    Result<int32_t> p = PeriodFrom(period);
    if (!p.ok()) return LineError(line_no, "period", p.status().message());
    out.period = *p;
  }
  if (amount_in_fen) {
    int64_t fen = 0;
    auto r = std::from_chars(amount.data(), amount.data() + amount.size(), fen);
    if (amount.empty() || r.ec != std::errc() || r.ptr != amount.data() + amount.size()) {
      return LineError(line_no, "amount_fen",
                       "'" + std::string(amount.substr(0, 32)) + "' is not a whole number of fen");
    }
    out.amount_fen = fen;
  } else {
    Result<int64_t> fen = ParseYuan(amount);
    if (!fen.ok()) return LineError(line_no, "amount", fen.status().message());
    out.amount_fen = *fen;
  }
  if (out.amount_fen <= 0) return LineError(line_no, "amount", "amount must be positive");
  return Status::Ok();
}

// The header row of a CSV roll: which column is which. Names the row when it lacks one.
Status ReadHeader(std::string_view line, uint64_t line_no, std::vector<std::string>& fields,
                  std::vector<Column>& columns, bool& have_fen, ParsedRoll& roll) {
  if (!SplitCsv(line, fields))
    return InvalidArgument("the header row has an unterminated quote").WithLine(line_no);
  bool ben = false, prog = false, amount = false;
  for (const std::string& f : fields) {
    auto it = ColumnNames().find(f);
    Column c = it == ColumnNames().end() ? Column::kIgnored : it->second;
    if (c == Column::kIgnored) roll.ignored_columns.push_back(f);
    ben |= c == Column::kBeneficiary;
    prog |= c == Column::kProgram;
    amount |= c == Column::kAmountYuan || c == Column::kAmountFen;
    have_fen |= c == Column::kAmountFen;
    columns.push_back(c);
  }
  if (!ben || !prog || !amount) {
    return InvalidArgument(
               "the header row must name beneficiary_id (受益人编号), program_id (项目) and "
               "amount (金额) columns")
        .WithLine(line_no);
  }
  return Status::Ok();
}

Status CsvLine(std::string_view line, uint64_t line_no, const std::vector<Column>& columns,
               bool have_fen, int32_t default_period, std::vector<std::string>& fields,
               RollLine& out) {
  if (!SplitCsv(line, fields)) return LineError(line_no, "line", "unterminated quote");
  if (fields.size() != columns.size()) {
    return LineError(line_no, "line",
                     "has " + std::to_string(fields.size()) + " fields, the header has " +
                         std::to_string(columns.size()));
  }
  std::string_view ben, prog, period, amount;
  for (size_t i = 0; i < columns.size(); ++i) {
    switch (columns[i]) {
      case Column::kBeneficiary:
        ben = fields[i];
        break;
      case Column::kProgram:
        prog = fields[i];
        break;
      case Column::kPeriod:
        period = fields[i];
        break;
      case Column::kAmountYuan:
        if (!have_fen) amount = fields[i];
        break;
      case Column::kAmountFen:
        amount = fields[i];
        break;
      case Column::kIgnored:
        break;
    }
  }
  return MakeLine(line_no, ben, prog, period, amount, have_fen, default_period, out);
}

Status JsonLine(std::string_view line, uint64_t line_no, int32_t default_period, RollLine& out) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  const json::object* object = ec ? nullptr : v.if_object();
  if (object == nullptr) return LineError(line_no, "line", "is not a JSON object");
  auto str = [&](const char* k) -> std::string {
    const json::value* f = object->if_contains(k);
    if (f == nullptr) return "";
    if (const json::string* s = f->if_string()) return std::string(*s);
    if (const int64_t* i = f->if_int64()) return std::to_string(*i);
    return "?";  // a field of another type: MakeLine names it
  };
  bool fen = object->contains("amount_fen");
  return MakeLine(line_no, str("beneficiary_id"), str("program_id"), str("period"),
                  fen ? str("amount_fen") : str("amount"), fen, default_period, out);
}

}  // namespace

RollFormat DetectRollFormat(std::string_view content_type, std::string_view body) {
  if (content_type.find("csv") != std::string_view::npos) return RollFormat::kCsv;
  if (content_type.find("json") != std::string_view::npos) return RollFormat::kJsonLines;
  std::string_view t = Trim(body.substr(0, 64));
  return !t.empty() && t.front() == '{' ? RollFormat::kJsonLines : RollFormat::kCsv;
}

Result<ParsedRoll> ParseRoll(std::string_view body, RollFormat format, int32_t default_period,
                             const std::function<void(uint64_t)>& progress) {
  ParsedRoll roll;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);  // a BOM from spreadsheet exports
  uint64_t line_no = 0;
  std::vector<Column> columns;
  std::vector<std::string> fields;
  bool have_fen = false;
  while (!body.empty()) {
    size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    ++line_no;
    if (progress && line_no % 10'000 == 0) progress(line_no);
    if (Trim(line).empty()) continue;
    if (format == RollFormat::kCsv && columns.empty()) {
      FL_RETURN_IF_ERROR(ReadHeader(line, line_no, fields, columns, have_fen, roll));
      continue;
    }
    if (roll.lines.size() + roll.errors.size() >= kRollLinesMax) {
      return TooLarge("a roll holds at most 1,000,000 lines").WithLine(line_no);
    }
    RollLine out;
    Status st = format == RollFormat::kCsv
                    ? CsvLine(line, line_no, columns, have_fen, default_period, fields, out)
                    : JsonLine(line, line_no, default_period, out);
    if (st.ok()) {
      if (!roll.total.TryAdd(Amount::Fen(out.amount_fen)))
        return Status(AmountOverflow("the roll's total")).WithLine(line_no);
      roll.lines.push_back(std::move(out));
    } else {
      roll.errors.push_back(std::move(st));
    }
  }
  if (roll.lines.empty() && roll.errors.empty()) return InvalidArgument("the roll has no lines");
  return roll;
}

}  // namespace fundledger
