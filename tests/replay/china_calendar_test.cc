// China Standard Time over UTC timestamps: where a day, and so a disclosure period or a
// charity's year, begins and ends, to the millisecond.
#include "projections/china_calendar.h"

#include <gtest/gtest.h>

#include "projections/disclosure.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kNewYear2025Ms = 1'735'660'800'000;  // 2024-12-31T16:00:00Z

TEST(ChinaCalendar, ADayRunsFromMidnightInBeijingWhichIsFourPmUtcTheDayBefore) {
  EXPECT_EQ(ChinaDayMs({2025, 1, 1}), (UtcRangeMs{kNewYear2025Ms, kNewYear2025Ms + kDayMs}));
  EXPECT_EQ(ChinaDayMs({2024, 12, 31}).end_ms, kNewYear2025Ms);
  EXPECT_EQ(ChinaDayMs({1970, 1, 1}).start_ms, -kChinaUtcOffsetMs);
  // 2024 is a leap year: February has a 29th, and March follows it.
  EXPECT_EQ(ChinaDayMs({2024, 2, 29}).end_ms, ChinaDayMs({2024, 3, 1}).start_ms);
}

TEST(ChinaCalendar, AnInstantBelongsToTheDateOnACalendarInBeijing) {
  EXPECT_EQ(ChinaDateOf(kNewYear2025Ms), (ChinaDate{2025, 1, 1}));
  EXPECT_EQ(ChinaDateOf(kNewYear2025Ms - 1), (ChinaDate{2024, 12, 31}));
  EXPECT_EQ(ChinaDateOf(0), (ChinaDate{1970, 1, 1}));  // 08:00 in Beijing
  EXPECT_EQ(ChinaDateOf(-kChinaUtcOffsetMs - 1), (ChinaDate{1969, 12, 31}));
  // Every day of four years, leap day included, starts and ends on its own date.
  for (int64_t start = ChinaDayMs({2023, 1, 1}).start_ms; start < ChinaDayMs({2027, 1, 1}).start_ms;
       start += kDayMs) {
    ChinaDate d = ChinaDateOf(start);
    ASSERT_EQ(ChinaDayMs(d).start_ms, start);
    ASSERT_EQ(ChinaDateOf(start + kDayMs - 1), d);
  }
}

TEST(ChinaCalendar, DisclosurePeriodsAreYearsAndQuartersInBeijing) {
  auto year = PeriodBounds("2025");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(year->first, kNewYear2025Ms);
  EXPECT_EQ(year->second, ChinaDayMs({2026, 1, 1}).start_ms);
  auto q2 = PeriodBounds("2025-Q2");
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(q2->first, ChinaDayMs({2025, 4, 1}).start_ms);
  EXPECT_EQ(q2->second, ChinaDayMs({2025, 7, 1}).start_ms);
  auto q4 = PeriodBounds("2025-Q4");
  ASSERT_TRUE(q4.ok());
  EXPECT_EQ(q4->second, ChinaDayMs({2026, 1, 1}).start_ms);
}

}  // namespace
}  // namespace fundledger::testing
