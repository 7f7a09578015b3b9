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
#include <map>
#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace fundledger {

struct DemoOptions {
  uint64_t seed = 2025;
  int people = 20'000;
  int months = 12;  // from 2025-01
  // The staff's keys are registered first and sign every command of the demo. This also turns
  // signing on for good (ledger/README.md, "Signed actions"): every later command must be signed.
  bool require_signing = false;
  std::function<void(const std::string&)> progress;
};

struct DemoSummary {
  int people = 0;
  uint64_t roll_lines = 0;
  int deaths = 0;
  int returns = 0;
  uint64_t entries = 0;
  // Each member of staff's signing key, by actor. Derived from the seed, so the same seed makes
  // the same log byte for byte: a demo's keys are not secrets.
  std::map<std::string, std::shared_ptr<const ActorSigningKey>> keys;
};

// The key the demo gives a member of staff: derived from the seed and the actor's name.
std::shared_ptr<const ActorSigningKey> DemoStaffKey(uint64_t seed, const std::string& actor);

// A console password for a demo account: 12 characters in groups of four ("abcd-efgh-jkmn")
// from letters and digits no one misreads (no 0/o, 1/l/i), ~59 bits.
Result<std::string> DemoPassword();

Result<DemoSummary> GenerateDemoCity(Ledger& ledger, const DemoOptions& options);

}  // namespace fundledger
