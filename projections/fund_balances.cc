#include "projections/fund_balances.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>
#include <optional>

#include "ledger/effects.h"
#include "projections/china_calendar.h"

namespace fundledger {
namespace {

constexpr size_t kEchoedCharsMax = 40;  // of a bad text, in an error message

// The fixed-width decimal number at text[pos, pos + width), or -1.
int64_t Digits(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) return -1;
  int64_t v = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// Milliseconds from the epoch to the start of the UTC day "YYYY-MM-DD" at the front of
// `text`, or nullopt when it is not a calendar date.
std::optional<int64_t> DayStartMs(std::string_view text) {
  int64_t y = Digits(text, 0, 4), m = Digits(text, 5, 2), d = Digits(text, 8, 2);
  if (y < 0 || m < 0 || d < 0 || text[4] != '-' || text[7] != '-') return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(y)),
                                  std::chrono::month(static_cast<unsigned>(m)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int64_t>(std::chrono::sys_days(ymd).time_since_epoch().count()) * kDayMs;
}

// "HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" after the 'T' of an RFC 3339 time: the offset from
// the day's start in UTC, inclusive of the whole second (or millisecond) named.
std::optional<int64_t> TimeOfDayMs(std::string_view t) {
  int64_t hh = Digits(t, 0, 2), mm = Digits(t, 3, 2), ss = Digits(t, 6, 2);
  if (hh < 0 || mm < 0 || ss < 0 || t[2] != ':' || t[5] != ':' || hh > 23 || mm > 59 || ss > 59)
    return std::nullopt;
  int64_t ms = ((hh * 60 + mm) * 60 + ss) * 1000 + 999;
  size_t pos = 8;
  if (pos < t.size() && t[pos] == '.') {
    size_t digits = 0;
    int64_t frac = 0;
    for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos, ++digits) {
      if (digits < 3) frac = frac * 10 + (t[pos] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (size_t d = digits; d < 3; ++d) frac *= 10;
    ms = ms - 999 + frac;
  }
  std::string_view zone = t.substr(pos);
  if (zone == "Z" || zone == "z") return ms;
  int64_t oh = Digits(zone, 1, 2), om = Digits(zone, 4, 2);
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || oh < 0 ||
      om < 0 || oh > 23 || om > 59)
    return std::nullopt;
  int64_t offset = (oh * 60 + om) * 60'000;
  return zone[0] == '+' ? ms - offset : ms + offset;
}

Status AsOfError(std::string_view text, std::string_view name, std::string_view why) {
  return InvalidArgument(std::string(name) + " takes an entry index, an RFC 3339 time " +
                         "(2025-03-31T23:59:59Z, 2025-03-31T23:59:59+08:00) or a date " +
                         "(2025-03-31, China Standard Time): '" +
                         std::string(text.substr(0, kEchoedCharsMax)) + "' " + std::string(why))
      .WithField(std::string(name));
}

}  // namespace

Result<AsOf> ParseAsOf(std::string_view text, std::string_view name) {
  AsOf as_of;
  if (text.empty()) return as_of;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    auto r = std::from_chars(text.data(), text.data() + text.size(), as_of.index);
    if (r.ec != std::errc()) return AsOfError(text, name, "is too large for an entry index");
    as_of.kind = AsOf::Kind::kIndex;
    return as_of;
  }
  if (text.size() < 10) return AsOfError(text, name, "is neither");
  std::optional<int64_t> day = DayStartMs(text);
  if (!day) return AsOfError(text, name, "is not a calendar date");
  as_of.kind = AsOf::Kind::kTime;
  if (text.size() == 10) {
    as_of.timestamp_ms = *day + kDayMs - 1 - kChinaUtcOffsetMs;
    return as_of;
  }
  if (text[10] != 'T' && text[10] != 't') return AsOfError(text, name, "is neither");
  std::string_view time = text.substr(11);
  if (time.size() == 8 || (time.size() > 8 && time[8] == '.' &&
                           time.find_first_not_of("0123456789", 9) == std::string_view::npos)) {
    return AsOfError(text, name,
                     "has no zone: add Z for UTC or +08:00 for China time (they differ by 8 "
                     "hours)");
  }
  std::optional<int64_t> ms = TimeOfDayMs(time);
  if (!ms) return AsOfError(text, name, "is not an RFC 3339 time");
  as_of.timestamp_ms = *day + *ms;
  return as_of;
}

FundBalances::FundBalances(const Ledger& ledger, const Projections& projections)
    : ledger_(ledger), projections_(projections) {}

Result<FundBalanceReport> FundBalances::Of(std::string_view fund, const AsOf& as_of) const {
  return ledger_.domain().Read(
      [&](const DomainState& at) -> Result<FundBalanceReport> { return At(at, fund, as_of); });
}

Result<uint64_t> FundBalances::ResolveIndex(const DomainState& at, const AsOf& as_of) const {
  assert(at.next_index > 0);  // the genesis entry is always there
  const uint64_t newest = at.next_index - 1;
  switch (as_of.kind) {
    case AsOf::Kind::kNow:
      return newest;
    case AsOf::Kind::kIndex:
      if (as_of.index > newest) {
        return NotFound("entry " + std::to_string(as_of.index) + " does not exist yet (log size " +
                        std::to_string(at.next_index) + ")");
      }
      return as_of.index;
    case AsOf::Kind::kTime: {
      FL_ASSIGN_OR_RETURN(uint64_t index, ledger_.log().IndexAtTime(as_of.timestamp_ms));
      // Entries committed after the read began are not in its answer.
      return std::min(index, newest);
    }
  }
  return newest;
}

Result<FundBalanceReport> FundBalances::At(const DomainState& at, std::string_view fund,
                                           const AsOf& as_of) const {
  auto it = at.funds.find(std::string(fund));
  if (it == at.funds.end()) return NotFound("fund '" + std::string(fund) + "' does not exist");
  FundBalanceReport report;
  report.fund = std::string(fund);
  report.log_size = at.next_index;
  FL_ASSIGN_OR_RETURN(report.as_of_index, ResolveIndex(at, as_of));
  for (const std::string& bucket : it->second.buckets) {
    std::string account = FundAccount(fund, bucket);
    Balance b;
    if (as_of.kind == AsOf::Kind::kNow) {
      b = projections_.BalanceOf(at, account);
    } else {
      FL_ASSIGN_OR_RETURN(b, Projections::BalanceAsOf(ledger_.log(), account, report.as_of_index));
    }
    if (!report.posted.TryAdd(Amount::Fen(b.posted_fen)) ||
        !report.pending.TryAdd(Amount::Fen(b.pending_fen))) {
      return AmountOverflow("the total of fund '" + std::string(fund) + "'");
    }
    report.buckets.push_back({bucket, b});
  }
  FL_ASSIGN_OR_RETURN(report.available, report.posted.Minus(report.pending));
  return report;
}

}  // namespace fundledger
