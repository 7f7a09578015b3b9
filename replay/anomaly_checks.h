// Anomaly checks: what auditors look for, run over any log from entry 0 (the store, or a
// bundle), including logs imported from elsewhere in which the append-time rules did not
// hold. Each finding names the check, the subject, what is wrong, and the entries it rests on.
//
// Checks (ids as reported):
//   same_person_two_records    one ID commitment registered as two beneficiaries, both paid
//   same_person_two_regions    ... and paid in two regions
//   shared_bank_account        one bank-account token used by beneficiaries of different households
//   paid_after_death           a paid line for a period that began after the date of death
//   paid_while_suspended       ... while suspended or exited on the period's first day
//   paid_beyond_age_limit      ... outside the program's age limits
//   above_standard             ... above the program's standard in force that month
//   excluded_combination       two programs that may not be combined, paid for one month
//   restricted_misuse          restricted money spent or moved outside its purpose
//   lottery_misuse             lottery money spent or granted outside the approved categories
//   transfer_out_of_fund       money moved out of a subsidy or lottery fund's dedicated account
//   idle_balance               a fund bucket holding money untouched for more than N days
//   charitable_below_70pct     a charity spent less than 70% of last year's income on its work
//   admin_above_10pct          a charity's admin costs above 10% of its spending in a year
//   disclosure_overdue         no quarterly disclosure within 3 months, or no annual one by May 31
// Years are calendar years in China Standard Time (UTC+8) of the entries' timestamps.
#pragma once

#include <string>
#include <vector>

#include "ledger/log_source.h"

namespace fundledger {

struct Finding {
  std::string check;
  std::string subject;  // a beneficiary, fund or organisation id
  std::string detail;
  std::vector<uint64_t> entries;
};

struct AnomalyOptions {
  int idle_days = 180;
};

Result<std::vector<Finding>> RunAnomalyChecks(const LogSource& source,
                                              const AnomalyOptions& options);

std::string FindingsJson(const std::vector<Finding>& findings);
std::string FindingsCsv(const std::vector<Finding>& findings);
std::string FindingsTable(const std::vector<Finding>& findings);

}  // namespace fundledger
