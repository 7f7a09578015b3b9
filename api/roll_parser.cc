#include "api/roll_parser.h"

#include <iconv.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>

namespace fundledger {
namespace json = boost::json;
namespace {

enum class Column {
  kBeneficiary,
  kIdNumber,
  kName,
  kProgram,
  kPeriod,
  kAmountYuan,
  kAmountFen,
  kIgnored
};

const std::map<std::string, Column, std::less<>>& ColumnNames() {
  static const std::map<std::string, Column, std::less<>> names{
      {"beneficiary_id", Column::kBeneficiary},
      {"受益人编号", Column::kBeneficiary},
      {"对象编号", Column::kBeneficiary},
      {"人员编号", Column::kBeneficiary},
      {"id_number", Column::kIdNumber},
      {"身份证号", Column::kIdNumber},
      {"身份证号码", Column::kIdNumber},
      {"公民身份号码", Column::kIdNumber},
      {"证件号码", Column::kIdNumber},
      {"name", Column::kName},
      {"姓名", Column::kName},
      {"program_id", Column::kProgram},
      {"program", Column::kProgram},
      {"项目", Column::kProgram},
      {"项目编号", Column::kProgram},
      {"项目名称", Column::kProgram},
      {"救助项目", Column::kProgram},
      {"救助类别", Column::kProgram},
      {"period", Column::kPeriod},
      {"期间", Column::kPeriod},
      {"月份", Column::kPeriod},
      {"发放月份", Column::kPeriod},
      {"发放年月", Column::kPeriod},
      {"所属期", Column::kPeriod},
      {"amount", Column::kAmountYuan},
      {"金额", Column::kAmountYuan},
      {"发放金额", Column::kAmountYuan},
      {"金额(元)", Column::kAmountYuan},
      {"发放金额(元)", Column::kAmountYuan},
      {"实发金额", Column::kAmountYuan},
      {"amount_fen", Column::kAmountFen},
      {"金额(分)", Column::kAmountFen},
  };
  return names;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A header as compared: ASCII lower case, no spaces, full-width brackets as ASCII ones.
std::string HeaderKey(std::string_view header) {
  std::string key;
  for (size_t i = 0; i < header.size(); ++i) {
    char c = header[i];
    if (header.substr(i).starts_with("（")) {
      key += '(';
      i += 2;
    } else if (header.substr(i).starts_with("）")) {
      key += ')';
      i += 2;
    } else if (c != ' ' && c != '\t') {
      key += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return key;
}

// One cell of a record as NextRecordViews scans it, the old way: quotes opened and closed
// anywhere, doubled quotes inside them kept as one. Only a cell holding a quote comes here.
std::string UnquoteCell(std::string_view raw) {
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (quoted && c == '"' && i + 1 < raw.size() && raw[i + 1] == '"') {
      cur += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else {
      cur += c;
    }
  }
  return cur;
}

// One CSV record's cells, split without copying: a cell without quotes is a view into the
// text, one with quotes is unquoted into `unquoted`, which its view then points into.
struct CsvRecord {
  std::vector<std::string_view> fields;
  std::vector<std::string> unquoted;
  std::vector<size_t> quoted_cells;  // the index in `fields` of each of `unquoted`
};

// The next CSV record (RFC 4180: a quoted field may hold commas, doubled quotes and line
// breaks), removed from `text`, its cells trimmed. False on a quote left open at the end of
// the text. The views stay valid while `text`'s bytes and `record` do.
bool NextRecordViews(std::string_view& text, CsvRecord& record, char separator = ',') {
  record.fields.clear();
  record.unquoted.clear();
  record.quoted_cells.clear();
  bool quoted = false, has_quote = false;
  size_t start = 0, i = 0;
  auto end_cell = [&](size_t end) {
    std::string_view raw = text.substr(start, end - start);
    if (has_quote) {
      record.quoted_cells.push_back(record.fields.size());
      record.unquoted.push_back(UnquoteCell(raw));
    }
    record.fields.push_back(Trim(raw));
    has_quote = false;
  };
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
        ++i;  // a doubled quote inside quotes stays inside them
      } else {
        quoted = !quoted;
      }
      has_quote = true;
    } else if (quoted) {
      continue;
    } else if (c == separator) {
      end_cell(i);
      start = i + 1;
    } else if (c == '\n') {
      break;
    }
  }
  end_cell(i);
  for (size_t k = 0; k < record.unquoted.size(); ++k)  // no longer grows: the views stay valid
    record.fields[record.quoted_cells[k]] = Trim(record.unquoted[k]);
  text.remove_prefix(i < text.size() ? i + 1 : text.size());
  return !quoted;
}

bool NextRecord(std::string_view& text, std::vector<std::string>& fields, char separator = ',') {
  CsvRecord record;
  bool closed = NextRecordViews(text, record, separator);
  fields.assign(record.fields.begin(), record.fields.end());
  return closed;
}

Status LineError(uint64_t line, const char* field, std::string message) {
  return InvalidArgument(std::move(message)).WithField(field).WithLine(line);
}

std::string Quoted(std::string_view text) { return "'" + std::string(text.substr(0, 64)) + "'"; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int32_t Number(std::string_view digits) {
  int32_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return n;
}

// Reads one row's cells into `row`; every problem goes to `errors`.
void MakeRow(uint64_t line_no, std::string_view ben, std::string_view id_number,
             std::string_view name, std::string_view prog, std::string_view period,
             std::string_view amount, bool amount_in_fen, int32_t default_period, RollRow& row,
             std::vector<Status>& errors) {
  size_t errors_before = errors.size();
  row.line.line_no = static_cast<uint32_t>(line_no);
  row.line.beneficiary = std::string(ben);
  row.line.program = std::string(prog);
  row.name = std::string(name);
  row.id_number = std::string(id_number);
  if (ben.empty() && id_number.empty()) {
    errors.push_back(LineError(line_no, "beneficiary_id",
                               "names no person: give the beneficiary id or the ID number"));
  }
  if (prog.empty()) errors.push_back(LineError(line_no, "program_id", "names no program"));
  row.line.period = default_period;
  if (!period.empty()) {
    Result<int32_t> p = ParseRollPeriod(period);
    if (p.ok()) {
      row.line.period = *p;
    } else {
      errors.push_back(LineError(line_no, "period", p.status().message()));
    }
  }
  Result<int64_t> fen = InvalidArgument("");
  if (amount_in_fen) {
    int64_t value = 0;
    auto r = std::from_chars(amount.data(), amount.data() + amount.size(), value);
    fen = !amount.empty() && r.ec == std::errc() && r.ptr == amount.data() + amount.size()
              ? Result<int64_t>(value)
              : Result<int64_t>(InvalidArgument(Quoted(amount) + " is not a whole number of fen"));
  } else {
    fen = ParseRollYuan(amount);
  }
  if (!fen.ok()) {
    errors.push_back(
        LineError(line_no, amount_in_fen ? "amount_fen" : "amount", fen.status().message()));
  } else if (*fen <= 0) {
    errors.push_back(LineError(line_no, "amount", "amount must be positive"));
  } else {
    row.line.amount_fen = *fen;
  }
  row.parsed = errors.size() == errors_before;
}

struct CsvLayout {
  std::vector<Column> columns;
  bool have_fen = false;
};

// The header row of a CSV roll: which column is which. Names the row when it lacks one.
Status ReadHeader(const std::vector<std::string_view>& fields, uint64_t line_no, CsvLayout& layout,
                  ParsedRoll& roll) {
  bool person = false, prog = false, amount = false;
  for (std::string_view f : fields) {
    auto it = ColumnNames().find(HeaderKey(f));
    Column c = it == ColumnNames().end() ? Column::kIgnored : it->second;
    if (c == Column::kIgnored) roll.ignored_columns.emplace_back(f);
    person |= c == Column::kBeneficiary || c == Column::kIdNumber;
    prog |= c == Column::kProgram;
    amount |= c == Column::kAmountYuan || c == Column::kAmountFen;
    layout.have_fen |= c == Column::kAmountFen;
    layout.columns.push_back(c);
  }
  if (!person || !prog || !amount) {
    std::string found;
    for (std::string_view f : fields) {
      if (!found.empty()) found += ", ";
      found += f.substr(0, 32);
    }
    return InvalidArgument(
               "the header row must name the person (受益人编号 beneficiary_id or 身份证号 "
               "id_number), the program (项目 program_id) and the amount (金额 amount); it has: " +
               found + " (file read as " + roll.encoding + ")")
        .WithLine(line_no);
  }
  return Status::Ok();
}

void CsvRow(const std::vector<std::string_view>& fields, uint64_t line_no, const CsvLayout& layout,
            int32_t default_period, RollRow& row, std::vector<Status>& errors) {
  if (fields.size() != layout.columns.size()) {
    row.line.line_no = static_cast<uint32_t>(line_no);
    errors.push_back(LineError(line_no, "line",
                               "has " + std::to_string(fields.size()) + " cells, the header has " +
                                   std::to_string(layout.columns.size())));
    return;
  }
  std::string_view cell[static_cast<size_t>(Column::kIgnored) + 1];
  for (size_t i = 0; i < layout.columns.size(); ++i) {
    Column c = layout.columns[i];
    if (c == Column::kAmountYuan && layout.have_fen) continue;
    cell[static_cast<size_t>(c)] = fields[i];
  }
  auto at = [&](Column c) { return cell[static_cast<size_t>(c)]; };
  std::string_view amount = layout.have_fen ? at(Column::kAmountFen) : at(Column::kAmountYuan);
  MakeRow(line_no, at(Column::kBeneficiary), at(Column::kIdNumber), at(Column::kName),
          at(Column::kProgram), at(Column::kPeriod), amount, layout.have_fen, default_period, row,
          errors);
}

void JsonRow(std::string_view line, uint64_t line_no, int32_t default_period, RollRow& row,
             std::vector<Status>& errors) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  const json::object* object = ec ? nullptr : v.if_object();
  if (object == nullptr) {
    row.line.line_no = static_cast<uint32_t>(line_no);
    errors.push_back(LineError(line_no, "line", "is not a JSON object"));
    return;
  }
  auto str = [&](const char* k) -> std::string {
    const json::value* f = object->if_contains(k);
    if (f == nullptr) return "";
    if (const json::string* s = f->if_string()) return std::string(*s);
    if (const int64_t* i = f->if_int64()) return std::to_string(*i);
    return "?";  // a field of another type: MakeRow names it
  };
  bool fen = object->contains("amount_fen");
  MakeRow(line_no, str("beneficiary_id"), str("id_number"), str("name"), str("program_id"),
          str("period"), fen ? str("amount_fen") : str("amount"), fen, default_period, row, errors);
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool ValidUtf8(std::string_view s) {
  constexpr size_t kBad = SIZE_MAX;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80                ? 0
               : c >= 0xC2 && c < 0xE0 ? 1
               : (c & 0xF0) == 0xE0    ? 2
               : c >= 0xF0 && c < 0xF5 ? 3
                                       : kBad;
    if (n == kBad || n >= s.size() - i) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

// A row with nothing in it: Excel writes empty rows as ",,,,".
bool BlankRecord(std::string_view record, const std::vector<std::string_view>& fields, bool csv) {
  if (csv) return std::all_of(fields.begin(), fields.end(), [](auto& f) { return f.empty(); });
  return Trim(record).empty();
}

Result<std::string> FromGb18030(std::string_view body) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return Internal("iconv has no GB18030 converter");
  std::string out(body.size() * 2 + 16, '\0');  // each GB18030 sequence grows at most 2x
  char* in_ptr = const_cast<char*>(body.data());
  size_t in_left = body.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  size_t r = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1) || in_left != 0) {
    return InvalidArgument(
        "the file is neither UTF-8 nor GBK/GB18030 text (byte " +
        std::to_string(body.size() - in_left + 1) +
        " is not a character); save it from the spreadsheet as CSV (UTF-8 or 逗号分隔)");
  }
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace

Result<std::string> DecodeRollText(std::string_view body, std::string* encoding) {
  *encoding = "UTF-8";
  if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
  if (ValidUtf8(body)) return std::string(body);
  *encoding = "GB18030";
  return FromGb18030(body);
}

Result<int32_t> ParseRollPeriod(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(Quoted(text) +
                           " is not a month: write 2026-02, 2026/02, 2026年2月 or 202602");
  };
  std::string_view t = Trim(text);
  int32_t year = 0, month = 0;
  if (t.size() == 6 && AllDigits(t)) {
    year = Number(t.substr(0, 4));
    month = Number(t.substr(4));
  } else {
    if (t.size() < 6 || !AllDigits(t.substr(0, 4))) return bad();
    year = Number(t.substr(0, 4));
    std::string_view rest = t.substr(4);
    if (rest.starts_with("年")) {
      rest.remove_prefix(3);
      if (rest.ends_with("月")) rest.remove_suffix(3);
    } else if (rest.front() == '-' || rest.front() == '/' || rest.front() == '.') {
      rest.remove_prefix(1);
    } else {
      return bad();
    }
    if (rest.empty() || rest.size() > 2 || !AllDigits(rest)) return bad();
    month = Number(rest);
  }
  int32_t yyyymm = year * 100 + month;
  if (month < 1 || month > 12 || !IsValidMonth(yyyymm)) return bad();
  return yyyymm;
}

Result<int64_t> ParseRollYuan(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(Quoted(text) +
                           " is not an amount in yuan with at most 2 decimals (1045, 1045.00, "
                           "1,045.00 or ¥1,045.00)");
  };
  std::string_view t = Trim(text);
  for (std::string_view sign : {"¥", "￥"}) {
    if (t.starts_with(sign)) t = Trim(t.substr(sign.size()));
  }
  if (t.ends_with("元")) t = Trim(t.substr(0, t.size() - 3));
  size_t dot = std::min(t.find('.'), t.size());
  size_t comma = t.find(',');
  if (comma == std::string_view::npos) {  // most amounts: parsed where they lie
    Result<Amount> amount = Amount::ParseYuan(t);
    if (!amount.ok()) return bad();
    return amount->fen();
  }
  std::string plain;
  if (comma < dot) {
    // Groups of three after the first, which has one to three digits: 1,045 and 12,345,678.
    std::string_view whole = t.substr(0, dot);
    size_t first = whole.find(',');
    if (first == 0 || first > 3) return bad();
    for (size_t i = first; i < whole.size(); i += 4) {
      if (whole[i] != ',' || i + 4 > whole.size() || !AllDigits(whole.substr(i + 1, 3)))
        return bad();
    }
    for (char c : whole)
      if (c != ',') plain += c;
    plain += t.substr(dot);
  } else {
    plain = std::string(t);
  }
  if (plain.find(',') != std::string::npos) return bad();
  Result<Amount> amount = Amount::ParseYuan(plain);
  if (!amount.ok()) return bad();
  return amount->fen();
}

RollFormat DetectRollFormat(std::string_view content_type, std::string_view body) {
  if (content_type.find("csv") != std::string_view::npos) return RollFormat::kCsv;
  if (content_type.find("json") != std::string_view::npos) return RollFormat::kJsonLines;
  std::string_view t = Trim(body.substr(0, 64));
  return !t.empty() && t.front() == '{' ? RollFormat::kJsonLines : RollFormat::kCsv;
}

bool NextCsvRecord(std::string_view& text, std::vector<std::string>& fields, char separator) {
  return NextRecord(text, fields, separator);
}

std::string CsvHeaderKey(std::string_view header) { return HeaderKey(header); }

Result<ParsedRoll> ParseRoll(std::string_view body, RollFormat format, int32_t default_period,
                             const std::function<void(uint64_t)>& progress) {
  ParsedRoll roll;
  // UTF-8 (most rolls) is read where it lies; only GB18030 is converted into a copy.
  std::string converted;
  std::string_view rest = body.starts_with(kUtf8Bom) ? body.substr(kUtf8Bom.size()) : body;
  roll.encoding = "UTF-8";
  if (!ValidUtf8(rest)) {
    FL_ASSIGN_OR_RETURN(converted, DecodeRollText(body, &roll.encoding));
    rest = converted;
  }
  uint64_t line_no = 0;
  CsvLayout layout;
  CsvRecord csv;
  const std::vector<std::string_view>& fields = csv.fields;
  while (!rest.empty()) {
    ++line_no;  // the spreadsheet's row: blank rows count, as Excel shows them
    if (progress && line_no % 10'000 == 0) progress(line_no);
    std::string_view record = rest;
    bool closed = true;
    if (format == RollFormat::kCsv) {
      closed = NextRecordViews(rest, csv);
      record = record.substr(0, record.size() - rest.size());
    } else {
      size_t eol = rest.find('\n');
      record = rest.substr(0, eol);
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    }
    if (closed && BlankRecord(record, fields, format == RollFormat::kCsv)) continue;
    if (format == RollFormat::kCsv && layout.columns.empty()) {
      if (!closed) return InvalidArgument("the header row has an unterminated quote");
      FL_RETURN_IF_ERROR(ReadHeader(fields, line_no, layout, roll));
      continue;
    }
    if (roll.rows.size() >= kRollLinesMax) {
      return TooLarge("a roll holds at most 1,000,000 lines").WithLine(line_no);
    }
    RollRow row;
    if (!closed) {
      row.line.line_no = static_cast<uint32_t>(line_no);
      roll.errors.push_back(LineError(line_no, "line", "unterminated quote"));
    } else if (format == RollFormat::kCsv) {
      CsvRow(fields, line_no, layout, default_period, row, roll.errors);
    } else {
      JsonRow(record, line_no, default_period, row, roll.errors);
    }
    if (row.parsed && !roll.total.TryAdd(Amount::Fen(row.line.amount_fen)))
      return Status(AmountOverflow("the roll's total")).WithLine(line_no);
    roll.rows.push_back(std::move(row));
  }
  if (roll.rows.empty()) return InvalidArgument("the roll has no lines");
  return roll;
}

}  // namespace fundledger
