// Parsing a monthly disbursement roll as a clerk's spreadsheet saves it: CSV (UTF-8, UTF-8 with a
// BOM, or GBK/GB18030 as Excel writes "CSV (逗号分隔)" on Chinese Windows, detected) or JSON
// lines. Every problem of every line is reported with its row number in the spreadsheet (the
// header is row 1; a quoted cell holding a line break does not shift later rows), the field and
// why; nothing is dropped silently. Only the text is read here: which person and program a line
// names is ResolveRoll's business (roll_resolver.h), against the ledger's state.
//
// CSV columns (any order; a header is matched ignoring case, spaces and full-width brackets;
// other columns are ignored and listed):
//   beneficiary_id | 受益人编号 | 对象编号 | 人员编号          the ledger's id of the person
//   id_number      | 身份证号 | 身份证号码 | 公民身份号码 | 证件号码   instead of, or beside, the
//   id name           | 姓名                                      checked against the person's
//   record program_id     | program | 项目 | 项目编号 | 项目名称 | 救助项目 | 救助类别   id or name
//   (低保) period         | 期间 | 月份 | 发放月份 | 发放年月 | 所属期    optional: the roll's
//   period
//                    2026-02, 2026/02, 2026.02, 2026年2月, 202602
//   amount         | 金额 | 发放金额 | 金额（元）| 实发金额    yuan: 1045, 1045.00, 1,045.00,
//                                                             ¥1,045.00, 1045元 (never floating)
//   amount_fen     | 金额（分）                                 integer fen (instead of amount)
// JSON lines: {"beneficiary_id" or "id_number", "name"?, "program_id", "period": "2025-03",
// "amount": "1045.00" or "amount_fen": 104500}.
//
//   Result<ParsedRoll> roll = ParseRoll(body, DetectRollFormat(content_type, body), 202603);
//   ResolvedRoll lines = ResolveRoll(state, target, identities, std::move(*roll));
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/amount.h"
#include "ledger/ledger.h"

namespace fundledger {

inline constexpr size_t kRollLinesMax = kBatchLinesMax;

enum class RollFormat { kCsv, kJsonLines };

// One data row of the roll as written. `line.beneficiary` and `line.program` hold the text of
// their cells (an id, or a program's name) until ResolveRoll maps them to ids.
struct RollRow {
  RollLine line;
  std::string name;       // 姓名, when the roll gives it
  std::string id_number;  // 身份证号, when the roll gives it
  bool parsed = false;    // every cell read; false: `ParsedRoll::errors` say why
};

struct ParsedRoll {
  std::vector<RollRow> rows;   // every data row, in order
  std::vector<Status> errors;  // each with line (row) and field, in row order
  std::vector<std::string> ignored_columns;
  std::string encoding;  // "UTF-8" or "GB18030" (GBK is its subset)
  Amount total;          // of the parsed rows
};

// `progress(lines_done)` is called every 10,000 lines. An error (not a ParsedRoll) when the
// roll as a whole cannot be read: an encoding that is none of the above, a header naming no
// person, program or amount column, no lines, more than kRollLinesMax lines, a total beyond
// int64 fen.
Result<ParsedRoll> ParseRoll(std::string_view body, RollFormat format, int32_t default_period,
                             const std::function<void(uint64_t)>& progress = nullptr);
RollFormat DetectRollFormat(std::string_view content_type, std::string_view body);

// The roll's bytes as UTF-8: a UTF-8 BOM dropped, valid UTF-8 kept, anything else read as
// GB18030 (iconv); `encoding` says which. InvalidArgument when it is neither.
Result<std::string> DecodeRollText(std::string_view body, std::string* encoding);

// The next CSV record (RFC 4180: a quoted cell may hold the separator, doubled quotes and line
// breaks) split at `separator`, its cells trimmed, removed from `text`. False on a quote left
// open at the end of the text. Bank return files (bank_file.h) are read with it too.
bool NextCsvRecord(std::string_view& text, std::vector<std::string>& fields, char separator = ',');
// A column header as compared: ASCII lower case, no spaces, full-width brackets as ASCII ones.
std::string CsvHeaderKey(std::string_view header);

// A month as clerks write it: 2026-02, 2026-2, 2026/02, 2026.02, 2026年2月, 202602 -> 202602.
Result<int32_t> ParseRollPeriod(std::string_view text);
// Yuan as clerks write it: 1045, 1045.5, 1045.00, 1,045.00, ¥1,045.00, ￥1045, 1045元 -> fen,
// exactly (never through floating point); thousands separators must group by three.
Result<int64_t> ParseRollYuan(std::string_view text);

}  // namespace fundledger
