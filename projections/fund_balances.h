// FundBalances: the one answer to "what is this fund's balance, now or as of X", used by the
// CLI (`fundledger balance`) and HTTP (`GET /v1/balances`, the buckets of `GET /v1/funds/{id}`).
//
// A fund's buckets are looked up directly: the domain state's FundState::buckets (every bucket
// that ever held money), then each bucket's balance from the projections: now from memory
// (Projections::BalanceOf), as of an entry from the stored balance history
// (Projections::BalanceAsOf, one seek per bucket). No other account is read. A query runs
// inside one Domain::Read, so its answer reflects exactly `log_size` durable entries
// (DomainState::next_index). Totals are Amounts: an overflow is an error, never a wrap.
//
// "As of" is text a person types, read by ParseAsOf for the CLI and HTTP alike:
//   "" (nothing)                 now: after the newest durable entry
//   "1234"                       after entry 1234
//   "2025-03-31T23:59:59Z"       an RFC 3339 time, UTC ("Z") or with an offset ("+08:00"):
//                                after the last entry stamped at or before it; a time in whole
//                                seconds includes that whole second
//   "2025-03-31"                 a date: the end of that day in China Standard Time (UTC+8),
//                                2025-03-31T23:59:59.999+08:00, which is what a bureau's books
//                                mean by a date
// A time without a zone is refused: read as UTC or as China time it differs by eight hours.
//
//   Result<AsOf> as_of = ParseAsOf(text, "as_of");
//   if (!as_of.ok()) return as_of.status();            // InvalidArgument naming "as_of"
//   Result<FundBalanceReport> r = FundBalances(ledger, projections).Of("F1", *as_of);
//
// Thread safety: any thread. Of() takes the read gate shared; At() runs inside a Read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/amount.h"
#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger {

// One line of help for "as of", for the CLI's --as-of and the OpenAPI document's as_of.
inline constexpr std::string_view kAsOfHelp =
    "now when absent; an entry index (1234); an RFC 3339 time in UTC or with an offset "
    "(2025-03-31T23:59:59Z, 2025-03-31T23:59:59+08:00); or a date (2025-03-31: the end of that "
    "day in China Standard Time, UTC+8)";

struct AsOf {
  enum class Kind { kNow, kIndex, kTime };
  Kind kind = Kind::kNow;
  uint64_t index = 0;        // kIndex: the balance after this entry
  int64_t timestamp_ms = 0;  // kTime: after the last entry stamped at or before this instant
};

// `name` is the option or field the text came from ("--as-of", "as_of"): a bad text is an
// InvalidArgument whose message starts with it and whose field is it. Never throws.
Result<AsOf> ParseAsOf(std::string_view text, std::string_view name = "as_of");

struct BucketBalance {
  std::string bucket;
  Balance balance;
};

struct FundBalanceReport {
  std::string fund;
  uint64_t as_of_index = 0;  // the newest entry the balances include
  uint64_t log_size = 0;     // DomainState::next_index of the read that produced the report
  std::vector<BucketBalance> buckets;  // by bucket name
  Amount posted;                       // the buckets summed
  Amount pending;
  Amount available;  // posted - pending
};

class FundBalances {
 public:
  FundBalances(const Ledger& ledger, const Projections& projections);

  // Takes the read gate. NotFound for a fund that does not exist or an index not yet in the
  // log; what IndexAtTime says for a time before the first entry.
  Result<FundBalanceReport> Of(std::string_view fund, const AsOf& as_of) const;
  // The same, inside a Domain::Read: `at` is the state handed to its callback.
  Result<FundBalanceReport> At(const DomainState& at, std::string_view fund,
                               const AsOf& as_of) const;

 private:
  // The newest entry `as_of` includes, within the `at.next_index` entries of the read.
  Result<uint64_t> ResolveIndex(const DomainState& at, const AsOf& as_of) const;

  const Ledger& ledger_;
  const Projections& projections_;
};

}  // namespace fundledger
