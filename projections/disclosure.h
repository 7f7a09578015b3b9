// Disclosure reports: what a fund or an organisation received and spent in a period, computed
// from the log alone up to a signed checkpoint, so anyone holding the entries can recompute
// every figure exactly.
//
// Periods are calendar years ("2025") or quarters ("2025-Q1") in China Standard Time (UTC+8)
// of the entries' ledger timestamps. The entries in scope are those that move money of, or
// publish for, the funds in scope; the report carries their indexes and a digest:
//   SHA-256(leaf_hash(i1) || leaf_hash(i2) || ...) over those indexes in increasing order.
// Recipient lists are included only for programs whose recipients are publicly announced
// (低保, 特困, temporary assistance), with masked names (张*明) and county-level regions; never
// ID numbers, accounts, phones, addresses or health details.
//
//   Result<DisclosureReport> r = ComputeDisclosure(log, size, {"fund", "F-SUNSHINE", "2025"},
//   nullptr);
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/log_source.h"

namespace fundledger {

struct DisclosureScope {
  std::string kind;  // "fund" | "org" | "project" (a lottery project bucket)
  std::string id;
  std::string period;  // "2025" | "2025-Q1"
};

struct RecipientLine {
  std::string masked_name;
  std::string region;
  std::string program;
  int64_t amount_fen = 0;
};

struct DisclosureReport {
  DisclosureScope scope;
  std::string organisation;
  std::vector<std::string> funds;  // in scope
  std::map<std::string, std::string> fund_names;
  int64_t period_start_ms = 0, period_end_ms = 0;
  uint64_t checkpoint_size = 0;
  std::string checkpoint;  // the signed note
  // Money.
  int64_t opening_fen = 0, closing_fen = 0;
  int64_t donations_count = 0, donations_fen = 0, donations_restricted_fen = 0,
          donations_open_fen = 0;
  int64_t anonymous_donations = 0, in_kind_fen = 0;
  int64_t appropriations_fen = 0, lottery_grants_in_fen = 0, transfers_in_fen = 0;
  std::map<std::string, int64_t> spending_by_class;    // charitable, admin, fundraising, other
  std::map<std::string, int64_t> spending_by_purpose;  // expense purposes and program payments
  std::map<std::string, int64_t> grants_out_by_category;
  int64_t transfers_out_fen = 0;
  // People paid, by program and county.
  struct Paid {
    int64_t amount_fen = 0;
    int64_t beneficiaries = 0;
    int64_t households = 0;
  };
  std::map<std::string, std::map<std::string, Paid>> paid_by_program_region;
  // Ratios and their inputs (charities).
  int64_t previous_year_income_fen = 0;
  int64_t year_charitable_fen = 0, year_admin_fen = 0, year_spending_fen = 0;
  std::map<std::string, int64_t> restricted_left;  // bucket -> balance at the end
  std::vector<RecipientLine> recipients;
  std::vector<uint64_t> entries;  // in scope, increasing
  Hash entries_digest{};
};

// Where masked names come from (the vault); null: no recipient lists.
using NameLookup = std::function<std::optional<std::string>(const std::string& beneficiary)>;

Result<DisclosureReport> ComputeDisclosure(const LogSource& log, uint64_t checkpoint_size,
                                           const DisclosureScope& scope, const NameLookup& names);
Result<std::pair<int64_t, int64_t>> PeriodBounds(std::string_view period);  // [start, end) ms
std::string MaskName(std::string_view name);                                // 张三明 -> 张*明
Hash EntriesDigest(const LogSource& log, const std::vector<uint64_t>& indexes);

}  // namespace fundledger
