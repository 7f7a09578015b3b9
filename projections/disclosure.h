// Disclosure reports: what a fund or an organisation received and spent in a period, computed
// from the log alone up to a signed checkpoint, so anyone holding the entries can recompute
// every figure exactly.
//
// Periods are calendar years ("2025") or quarters ("2025-Q1") in China Standard Time (UTC+8)
// of the entries' business dates (business_date.h: a roll's period, a donation's receipt date,
// a value date; the posting time of an entry without one), never of when they were posted: a
// roll of March posted in May is in Q1. The opening and closing balances are the movements in
// scope dated before the period's start and end. The entries in scope are those that move
// money of, or publish for, the funds in scope, dated in the period; the report carries their
// indexes and a digest:
//   SHA-256(leaf_hash(i1) || leaf_hash(i2) || ...) over those indexes in increasing order.
// Recipient lists are included only for programs whose recipients are publicly announced
// (低保, 特困, temporary assistance), with masked names (张*明) and county-level regions; never
// ID numbers, accounts, phones, addresses or health details.
//
// The report reconciles: opening + every inflow - every outflow = closing, where the flows
// are the movements of money into and out of the accounts in scope during the period, each
// entry on the line of its kind (kInflowLines, kOutflowLines): returns, reissues, recoveries and
// reversals are lines of their own, never netted into the payments or receipts they correct.
// ComputeDisclosure refuses a report that does not reconcile, naming the figures.
//
// Spending (by class, by purpose, paid by program and county, the recipients, the year's
// ratios) is net of the corrections recorded in the same window, counted when they happen: a
// returned or recovered line counts less than its full value, a reissued one again, a reversed
// expense leaves spending and the admin ratio. A correction of an earlier period's payment
// lowers the spending of the period it falls in. Roll payments are charitable spending in the
// ratios. Restricted money left is the balance of each restricted bucket at the period's end.
//
//   Result<DisclosureReport> r = ComputeDisclosure(log, size, {"fund", "F-SUNSHINE", "2025"},
//   nullptr);
#pragma once

#include <array>
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

// The lines of the reconciliation, in the report's order. A reversal is an inflow when it
// brings money back into scope (a reversed expense) and an outflow when it takes money out (a
// reversed donation). Moves between two accounts both in scope appear on both sides.
inline constexpr std::array<std::string_view, 8> kInflowLines = {
    "donations",   "appropriations", "lottery_grants", "transfers_in",
    "releases_in", "returns",        "recoveries",     "reversals"};
inline constexpr std::array<std::string_view, 7> kOutflowLines = {
    "payments", "reissues", "expenses", "grants", "transfers_out", "releases_out", "reversals"};

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
  // The reconciliation: every line of kInflowLines / kOutflowLines, zero or not.
  std::map<std::string, int64_t> inflows, outflows;
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
  std::map<std::string, int64_t> restricted_left;  // "fund/bucket" -> balance at the period's end
  std::vector<RecipientLine> recipients;
  // What a reader sees instead of a code: "program:<id>" and "region:<code>" -> name. Filled
  // by the publisher (api/disclosure_render.h), not computed from the entries.
  std::map<std::string, std::string> names;
  std::vector<uint64_t> entries;  // in scope, increasing
  Hash entries_digest{};
  // Set when the report is published (never by ComputeDisclosure): the China date it was
  // published on ("2026-04-02"), and whether its period had not ended then (an interim report,
  // to be followed by the final one).
  bool interim = false;
  std::string published_on;
};

// Where masked names come from (the vault); null: no recipient lists.
using NameLookup = std::function<std::optional<std::string>(const std::string& beneficiary)>;

Result<DisclosureReport> ComputeDisclosure(const LogSource& log, uint64_t checkpoint_size,
                                           const DisclosureScope& scope, const NameLookup& names);
// Ok when opening + inflows - outflows = closing (in checked arithmetic); otherwise an
// Internal error naming the report and the four figures. ComputeDisclosure calls it before
// returning a report; a reader of a stored report may call it again.
Status CheckReconciliation(const DisclosureReport& report);

// part / whole as a percentage with one decimal ("10.5%"), never rounded to meet a limit:
// kAtMost rounds up (admin costs of at most 10%: 10.01% shows 10.1%), kAtLeast rounds down
// (charitable spending of at least 70%: 69.99% shows 69.9%); an exact tenth shows exactly.
// "-" when whole is 0. Compare with the limit in integers, never through this text.
enum class PercentLimit { kAtMost, kAtLeast };
std::string PercentText(int64_t part, int64_t whole, PercentLimit limit);

Result<std::pair<int64_t, int64_t>> PeriodBounds(std::string_view period);  // [start, end) ms
std::string MaskName(std::string_view name);                                // 张三明 -> 张*明
Hash EntriesDigest(const LogSource& log, const std::vector<uint64_t>& indexes);

}  // namespace fundledger
