// An independent reading of disclosure figures, for tests: its own small fold over the decoded
// events of a log, with its own balances, batches and calendar, calling neither the domain nor
// the projections. What it computes is what projections/disclosure.h promises, written a second
// time from that contract: a test compares the two to the fen.
#pragma once

#include <map>
#include <string>

#include "ledger/log_source.h"

namespace fundledger::testing {

struct IndependentFigures {
  int64_t opening_fen = 0, closing_fen = 0;
  std::map<std::string, int64_t> inflows, outflows;
  int64_t donations_count = 0, donations_fen = 0, donations_restricted_fen = 0,
          donations_open_fen = 0, anonymous_donations = 0, in_kind_fen = 0;
  int64_t appropriations_fen = 0, lottery_grants_in_fen = 0, transfers_in_fen = 0,
          transfers_out_fen = 0;
  std::map<std::string, int64_t> spending_by_class, spending_by_purpose, grants_out_by_category;
  struct Paid {
    int64_t amount_fen = 0, beneficiaries = 0, households = 0;
  };
  std::map<std::string, std::map<std::string, Paid>> paid_by_program_region;
  int64_t previous_year_income_fen = 0, year_charitable_fen = 0, year_admin_fen = 0,
          year_spending_fen = 0;
  std::map<std::string, int64_t> restricted_left;
};

// kind: "fund" | "org" | "project"; period: "2025" | "2025-Q1". Entries [0, size).
Result<IndependentFigures> RecomputeFigures(const LogSource& log, uint64_t size,
                                            const std::string& kind, const std::string& id,
                                            const std::string& period);

}  // namespace fundledger::testing
