// CheckedTotals: running totals of fen added up through Amount's checked arithmetic, for
// whatever sums what a log's entries say (projections, disclosure reports, anomaly checks).
// The first addition that would overflow 64 bits leaves its total as it was and is kept as a
// Corruption naming the entry being read and the total; later ones only leave theirs. Only an
// imported log (entries appended without the domain's rules) can hold such sums.
//
//   CheckedTotals totals;
//   totals.AtEntry(i);
//   totals.Add(region.amount_fen, payment.amount_fen, "the region total", key);
//   if (!totals.failure().ok()) return totals.failure();
//
// A plain value (copy it to undo): not thread-safe; its owner's lock guards it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

class CheckedTotals {
 public:
  void AtEntry(uint64_t index) { index_ = index; }
  // total_fen += delta_fen; false when that would overflow. `what` and `of` name the total in
  // the failure's message ("the region total" "r/dibao/202503/110105"), built only then.
  bool Add(int64_t& total_fen, int64_t delta_fen, std::string_view what, std::string_view of = {});

  // Ok until an addition overflowed; then a Corruption: "entry N: <what> <of> would overflow...".
  const Status& failure() const { return failure_; }
  std::optional<uint64_t> failed_entry() const { return failed_entry_; }

 private:
  uint64_t index_ = 0;
  Status failure_;
  std::optional<uint64_t> failed_entry_;
};

}  // namespace fundledger
