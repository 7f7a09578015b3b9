// An independent reading of disclosure figures, for tests: its own small fold over the decoded
// events of a log, with its own balances, batches and calendar, calling neither the domain nor
// the projections. What it computes is what projections/disclosure.h promises, written a second
// time from that contract: a test compares the two to the fen.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ledger/domain_state.h"
#include "ledger/log_source.h"
#include "projections/disclosure.h"

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

// Every figure of `r` against the independent fold's (gtest expectations).
void ExpectSameFigures(const DisclosureReport& r, const IndependentFigures& f);

using Scopes = std::vector<std::pair<std::string, std::string>>;  // kind, id

// Every fund, organisation and restricted bucket (as a project) of the state.
Scopes EveryScope(const DomainState& s);

// Every report of `scopes` for `periods` of the log's entries [0, size()): computed by the
// projections (which refuse a report that does not reconcile), reconciled, and equal to the
// independent fold's figure by figure (gtest expectations). `also` sees each report. Returns
// how many reports were compared.
int ReconcileEveryReport(const LogSource& log, const Scopes& scopes,
                         const std::vector<std::string>& periods,
                         const std::function<void(const DisclosureReport&)>& also = {});

}  // namespace fundledger::testing
