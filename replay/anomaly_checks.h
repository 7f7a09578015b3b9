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
//   duplicate_payment          net paid for one (person, program, month) above one line's amount
//   negative_balance           a person's net received from a program, or a fund bucket, below 0
//   idle_balance               a fund bucket holding money untouched for more than N days
//   charitable_below_70pct     a charity spent less than 70% of last year's income on its work
//                              in a year that has ended (roll payments count; a charity with
//                              no activity at all that year is reported too)
//   admin_above_10pct          a charity's admin costs above 10% of its spending in a year
//   disclosure_overdue         no current quarterly disclosure for more than 3 months since the
//                              charity's first activity or its last current one (a report for a
//                              period that ended more than a quarter before it was published,
//                              or an interim one published before its period ended, does not
//                              count), or no annual one for a year by May 31 after it
//   lottery_elderly_below_55pct  a lottery fund gave less than 55% (configurable) of what it
//                              spent in a year that has ended to elderly services
//   lottery_announcement_missing  no yearly announcement (a DisclosurePublished of the lottery
//                              fund for the year) by June 30 after a year it moved money
// The checks run as of an instant (default: now): entries stamped after it are not read, and
// idle time and deadlines are measured to it, not to the last entry. Years are calendar years
// in China Standard Time (UTC+8) of the entries' business dates (projections/business_date.h:
// a roll's period, a receipt or value date), not of when they were posted. Reversed expenses
// leave spending.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/log_source.h"

namespace fundledger {

struct Finding {
  std::string check;
  std::string subject;    // a beneficiary, fund or organisation id
  std::string detail;     // one English sentence, its figures inside
  std::string detail_zh;  // the same sentence and figures in Chinese, for the console and CLI
  std::vector<uint64_t> entries;
};

// AnomalyOptions::as_of_ms: the wall clock when the checks run.
inline constexpr int64_t kAsOfNow = INT64_MIN;

struct AnomalyOptions {
  int idle_days = 180;
  int64_t as_of_ms = kAsOfNow;  // UTC ms
  // The checks read entries [0, entries_max) at most (an "as of entry N" asks for N + 1).
  uint64_t entries_max = UINT64_MAX;
  int lottery_elderly_pct_min = 55;
  // A lottery category or purpose is elderly services when its name starts with this.
  std::string elderly_category_prefix = "elderly";
};

Result<std::vector<Finding>> RunAnomalyChecks(const LogSource& source,
                                              const AnomalyOptions& options);

// The language of the CSV's and the table's headers and details; a check's id is never
// translated (it is what scripts and the console key on).
enum class FindingsLanguage { kEn, kZh };

std::string FindingsJson(const std::vector<Finding>& findings);  // both details
// kZh starts with a UTF-8 BOM: a Chinese CSV is opened in Excel, which reads UTF-8 without one
// as the system's code page (GBK on a Chinese Windows); kEn stays plain for scripts.
std::string FindingsCsv(const std::vector<Finding>& findings,
                        FindingsLanguage language = FindingsLanguage::kEn);
std::string FindingsTable(const std::vector<Finding>& findings,
                          FindingsLanguage language = FindingsLanguage::kEn);

}  // namespace fundledger
