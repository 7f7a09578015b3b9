// The calendar of China Standard Time (UTC+8, no daylight saving) over the ledger's UTC
// millisecond timestamps: the days, months and years in which disclosure periods, charities'
// yearly ratios and disclosure deadlines are counted. The one place that knows the offset.
//
//   UtcRangeMs day = ChinaDayMs({2025, 1, 1});   // [2024-12-31T16:00Z, 2025-01-01T16:00Z)
//   ChinaDate d = ChinaDateOf(entry.timestamp_ms);
//   if (d.year == 2025) ...
//
// Pure functions of their arguments: safe from any thread.
#pragma once

#include <compare>
#include <cstdint>

namespace fundledger {

inline constexpr int64_t kChinaUtcOffsetMs = 8 * 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;
static_assert(kChinaUtcOffsetMs % 3'600'000 == 0 && kChinaUtcOffsetMs < kDayMs);

struct ChinaDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  auto operator<=>(const ChinaDate&) const = default;
};

// [start_ms, end_ms): UTC milliseconds.
struct UtcRangeMs {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool operator==(const UtcRangeMs&) const = default;
  bool Contains(int64_t ms) const { return ms >= start_ms && ms < end_ms; }
};

// The day `date` in China, from its 00:00 to the next day's 00:00, in UTC ms. REQUIRES: a
// real date (2025-02-30 is not one).
UtcRangeMs ChinaDayMs(const ChinaDate& date);

// The date in China at UTC instant `timestamp_ms`.
ChinaDate ChinaDateOf(int64_t timestamp_ms);

}  // namespace fundledger
