#include "projections/china_calendar.h"

#include <cassert>
#include <chrono>

namespace fundledger {

UtcRangeMs ChinaDayMs(const ChinaDate& date) {
  const std::chrono::year_month_day ymd{std::chrono::year{date.year},
                                        std::chrono::month{date.month}, std::chrono::day{date.day}};
  assert(ymd.ok());
  const int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  const int64_t start = days * kDayMs - kChinaUtcOffsetMs;
  return {start, start + kDayMs};
}

ChinaDate ChinaDateOf(int64_t timestamp_ms) {
  const int64_t local_ms = timestamp_ms + kChinaUtcOffsetMs;
  // Floor division: an instant before 1970 belongs to the day it falls in, not the next.
  const int64_t days = local_ms / kDayMs - (local_ms % kDayMs < 0 ? 1 : 0);
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day())};
}

}  // namespace fundledger
