#include "ledger/amount.h"

#include <gtest/gtest.h>

#include <limits>

namespace fundledger {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(Amount, SumsThatFitAreExact) {
  Result<Amount> sum = Amount::Fen(104500).Plus(Amount::Fen(50));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->fen(), 104550);
  EXPECT_EQ(Amount::Fen(3).Minus(Amount::Fen(5))->fen(), -2);
  EXPECT_EQ(Amount::Fen(104500).Times(12)->fen(), 1254000);
  EXPECT_EQ(Amount::Fen(7).Negated()->fen(), -7);
}

TEST(Amount, OverflowIsAnErrorNeverAWrap) {
  for (Result<Amount> r :
       {Amount::Fen(kMax).Plus(Amount::Fen(1)), Amount::Fen(kMin).Minus(Amount::Fen(1)),
        Amount::Fen(kMax / 2 + 1).Times(2), Amount::Fen(kMin).Negated()}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kRuleViolation);
    EXPECT_EQ(r.status().rule(), "amount_overflow");
  }
  Amount a = Amount::Fen(kMax);
  EXPECT_FALSE(a.TryAdd(Amount::Fen(1)));
  EXPECT_EQ(a.fen(), kMax);  // unchanged
  Amount b = Amount::Fen(kMin);
  EXPECT_FALSE(b.TrySubtract(Amount::Fen(1)));
  EXPECT_EQ(b.fen(), kMin);
  EXPECT_TRUE(b.TryAdd(Amount::Fen(1)));
  EXPECT_EQ(b.fen(), kMin + 1);
}

TEST(Amount, PrintsYuanWithTwoDecimals) {
  EXPECT_EQ(Amount::Fen(104500).ToYuan(), "1045.00");
  EXPECT_EQ(Amount::Fen(-350).ToYuan(), "-3.50");
  EXPECT_EQ(Amount::Fen(7).ToYuan(), "0.07");
  EXPECT_EQ(Amount::Fen(kMin).ToYuan(), "-92233720368547758.08");
  EXPECT_EQ(Amount::Fen(123456789).ToYuanGrouped(), "1,234,567.89");
  EXPECT_EQ(Amount::Fen(-100000).ToYuanGrouped(), "-1,000.00");
  EXPECT_EQ(Amount::Fen(99999).ToYuanGrouped(), "999.99");
}

TEST(Amount, ParsesYuanExactlyAndRefusesAnythingElse) {
  EXPECT_EQ(Amount::ParseYuan("1045")->fen(), 104500);
  EXPECT_EQ(Amount::ParseYuan("1045.5")->fen(), 104550);
  EXPECT_EQ(Amount::ParseYuan("0.07")->fen(), 7);
  for (const char* bad : {"", "-1", "+1", "1.234", "1.", ".5", "1e3", "1,045.00", "¥1", "0x10",
                          " 1", "1 ", "99999999999999999999"}) {
    Result<Amount> r = Amount::ParseYuan(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace fundledger
