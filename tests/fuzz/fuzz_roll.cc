// Fuzz target: disbursement rolls as CSV and as JSON lines.
#include <cstdint>
#include <string>

#include "api/roll_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fundledger;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (RollFormat format : {RollFormat::kCsv, RollFormat::kJsonLines}) {
    Result<ParsedRoll> roll = ParseRoll(body, format, 202503);
    if (roll.ok()) {
      for (const RollRow& row : roll->rows) {
        const RollLine& l = row.line;
        if (row.parsed && (l.amount_fen <= 0 || !IsValidMonth(l.period)))
          __builtin_trap();  // the parser's promise
      }
    }
  }
  return 0;
}
