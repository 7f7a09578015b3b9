// The demo city: a seeded, reproducible year of a civil-affairs bureau's money, for trying
// fundledger out and for end-to-end tests.
//
// Five districts (real-format 6-digit division codes), ~20,000 beneficiaries, twelve monthly
// rolls of 低保 (1,045 yuan), 特困 (1.4x), the two disability subsidies, old-age allowances by
// age band and orphans' allowances; deaths, suspensions, bank returns and reissues; quarterly
// appropriations; a welfare-lottery fund granting to elderly-care and child-welfare projects;
// two charities with restricted and open donations and their spending.
#pragma once

#include <functional>
#include <string>

#include "ledger/ledger.h"

namespace fundledger {

struct DemoOptions {
  uint64_t seed = 2025;
  int people = 20'000;
  int months = 12;  // from 2025-01
  std::function<void(const std::string&)> progress;
};

struct DemoSummary {
  int people = 0;
  uint64_t roll_lines = 0;
  int deaths = 0;
  int returns = 0;
  uint64_t entries = 0;
};

Result<DemoSummary> GenerateDemoCity(Ledger& ledger, const DemoOptions& options);

}  // namespace fundledger
