// The city the roll benchmarks pay (log_benchmark's BM_MonthlyRoll and bench_harness's
// scenario 1): one program (dibao, 1,045 yuan a month), fund F holding money for years of
// rolls, and `people` beneficiaries B0..B(n-1), registered and enrolled.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger::bench {

struct RollCity {
  std::string dir;
  Projections projections;
  std::unique_ptr<Ledger> ledger;
};

// Creates the ledger in `dir` (which must not exist) and fills it; aborts on any failure
// (a benchmark cannot go on without its city).
void BuildRollCity(RollCity& city, const std::string& dir, size_t people);

// Adds the city (program dibao, fund F and its money, B0..B(people-1)) to an open ledger that
// holds none of them, as an admin; aborts on any failure.
void FillRollCity(Ledger& ledger, size_t people);

// Lines 1..count paying B(first)..B(first+count-1) their dibao for `period`.
std::vector<RollLine> RollLines(size_t count, int32_t period, size_t first = 0);

}  // namespace fundledger::bench
