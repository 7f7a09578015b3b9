// Parsing a monthly disbursement roll: CSV (UTF-8, header row, Chinese headers accepted) or
// JSON lines. Every bad line is reported with its line number in the file, the field and why;
// nothing is dropped silently. A line's number in the batch is its line number in the file,
// so an error from the ledger's rules points at the same line the clerk sees.
//
// CSV columns (any order; other columns, such as a name, are ignored and listed):
//   beneficiary_id | 受益人编号 | 对象编号 | 人员编号
//   program_id     | 项目 | 项目编号 | 救助项目
//   period         | 期间 | 发放月份 | 所属期        optional: defaults to the roll's period
//   amount         | 金额 | 发放金额               yuan, up to 2 decimals ("1045.00")
//   amount_fen     | 金额（分）                     integer fen (instead of amount)
// JSON lines: {"beneficiary_id", "program_id", "period": "2025-03", "amount": "1045.00" or
// "amount_fen": 104500}.
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

struct ParsedRoll {
  std::vector<RollLine> lines;
  std::vector<Status> errors;  // each with line and field
  std::vector<std::string> ignored_columns;
  Amount total;  // of `lines`
};

// `progress(lines_done)` is called every 10,000 lines. A total beyond int64 fen is an error
// (amount_overflow), though the lines' limits keep any roll far below it.
Result<ParsedRoll> ParseRoll(std::string_view body, RollFormat format, int32_t default_period,
                             const std::function<void(uint64_t)>& progress = nullptr);
RollFormat DetectRollFormat(std::string_view content_type, std::string_view body);

}  // namespace fundledger
