#include "projections/checked_totals.h"

#include <string>

#include "ledger/amount.h"
#include "ledger/events.h"

namespace fundledger {

bool CheckedTotals::Add(int64_t& total_fen, int64_t delta_fen, std::string_view what,
                        std::string_view of) {
  Amount sum = Amount::Fen(total_fen);
  if (sum.TryAdd(Amount::Fen(delta_fen))) {
    total_fen = sum.fen();
    return true;
  }
  if (failure_.ok()) {
    std::string total(what);
    if (!of.empty()) total.append(" ").append(of);
    failure_ = Corruption("entry " + std::to_string(index_) + ": " + total +
                          " would overflow a 64-bit count of fen (" + FormatFen(total_fen) + " + " +
                          FormatFen(delta_fen) + " yuan)");
    failed_entry_ = index_;
  }
  return false;
}

}  // namespace fundledger
