// FundBalances and ParseAsOf: a fund's balance per bucket now or as of an entry, time or date,
// as the CLI's `balance` and HTTP's /v1/balances report it.
#include "projections/fund_balances.h"

#include <chrono>

#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

int64_t Ms(sys_days day, std::chrono::milliseconds time_of_day) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch() + time_of_day)
      .count();
}

TEST(ParseAsOf, NothingIsNowAndDigitsAreAnEntryIndex) {
  EXPECT_EQ(ParseAsOf("")->kind, AsOf::Kind::kNow);
  Result<AsOf> index = ParseAsOf("1234");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->kind, AsOf::Kind::kIndex);
  EXPECT_EQ(index->index, 1234u);
  EXPECT_EQ(ParseAsOf("18446744073709551615")->index, UINT64_MAX);
}

TEST(ParseAsOf, AnRfc3339TimeIncludesTheWholeSecondItNames) {
  const sys_days day = sys_days(std::chrono::year(2025) / 3 / 31);
  Result<AsOf> utc = ParseAsOf("2025-03-31T23:59:59Z");
  ASSERT_TRUE(utc.ok()) << utc.status().ToString();
  EXPECT_EQ(utc->kind, AsOf::Kind::kTime);
  EXPECT_EQ(utc->timestamp_ms, Ms(day, 23h + 59min + 59s + 999ms));
  EXPECT_EQ(ParseAsOf("2025-03-31t23:59:59z")->timestamp_ms, utc->timestamp_ms);
  EXPECT_EQ(ParseAsOf("2025-03-31T23:59:59+08:00")->timestamp_ms,
            Ms(day, 15h + 59min + 59s + 999ms));
  EXPECT_EQ(ParseAsOf("2025-03-31T23:59:59-01:30")->timestamp_ms,
            Ms(day, 25h + 29min + 59s + 999ms));
  EXPECT_EQ(ParseAsOf("2025-03-31T12:00:00.25Z")->timestamp_ms, Ms(day, 12h + 250ms));
  EXPECT_EQ(ParseAsOf("2025-03-31T12:00:00.123456Z")->timestamp_ms, Ms(day, 12h + 123ms));
}

TEST(ParseAsOf, ADateIsTheEndOfThatDayInChinaStandardTime) {
  Result<AsOf> date = ParseAsOf("2025-03-31");
  ASSERT_TRUE(date.ok()) << date.status().ToString();
  EXPECT_EQ(date->kind, AsOf::Kind::kTime);
  EXPECT_EQ(date->timestamp_ms, ParseAsOf("2025-03-31T23:59:59.999+08:00")->timestamp_ms);
  EXPECT_EQ(date->timestamp_ms, ParseAsOf("2025-03-31T15:59:59.999Z")->timestamp_ms);
  EXPECT_EQ(ParseAsOf("2024-02-29")->kind, AsOf::Kind::kTime);  // a leap day
}

TEST(ParseAsOf, BadTextIsAnErrorNamingTheOptionNeverAnException) {
  for (const char* bad :
       {"yesterday", "99999999999999999999999", "-1", "12a", "2025-02-30", "2025-02-29",
        "2025-13-01", "2025-3-31", "2025-03-31T24:00:00Z", "2025-03-31T23:60:00Z",
        "2025-03-31T23:59:59", "2025-03-31T23:59:59.5", "2025-03-31T23:59:59+8:00",
        "2025-03-31T23:59:59+08:60", "2025-03-31T23:59:59Zjunk", "2025-03-31T23:59:59.Z",
        "2025-03-31 23:59:59Z", " 12"}) {
    Result<AsOf> r = ParseAsOf(bad, "--as-of");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "--as-of") << bad;
    EXPECT_TRUE(r.status().message().starts_with("--as-of takes")) << r.status().message();
  }
  EXPECT_NE(ParseAsOf("99999999999999999999999").status().message().find("too large"),
            std::string::npos);
  EXPECT_NE(ParseAsOf("2025-03-31T23:59:59").status().message().find("+08:00"), std::string::npos);
  EXPECT_EQ(ParseAsOf("yesterday").status().field(), "as_of");
}

class FundBalancesTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    // Trust funds: a subsidy fund would spend only on its programs, not on the office.
    OpenFund("F1", fb::FundKind::trust, {});
    OpenFund("F10", fb::FundKind::trust, {});  // a fund whose id starts with F1's
    Appropriate("F1", "general", 1'000'000);
    first_ = ledger_->log().size() - 1;
    Appropriate("F1", "elderly", 500);
    Appropriate("F10", "general", 7);
    Ok(Expense("F1", "general", "office", 250, fb::ExpenseClass::admin));
  }
  Result<FundBalanceReport> Of(const std::string& fund, const std::string& as_of) {
    Result<AsOf> parsed = ParseAsOf(as_of);
    if (!parsed.ok()) return parsed.status();
    return FundBalances(*ledger_, *projections_).Of(fund, *parsed);
  }
  uint64_t first_ = 0;
};

TEST_F(FundBalancesTest, NowListsEveryBucketOfTheFundAndOnlyItsBuckets) {
  Result<FundBalanceReport> r = Of("F1", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->buckets.size(), 2u);
  EXPECT_EQ(r->buckets[0].bucket, "elderly");
  EXPECT_EQ(r->buckets[0].balance.posted_fen, 500);
  EXPECT_EQ(r->buckets[1].bucket, "general");
  EXPECT_EQ(r->buckets[1].balance.posted_fen, 999'750);
  EXPECT_EQ(r->posted, Amount::Fen(1'000'250));
  EXPECT_EQ(r->pending, Amount::Zero());
  EXPECT_EQ(r->available, Amount::Fen(1'000'250));
  EXPECT_EQ(r->log_size, ledger_->log().size());
  EXPECT_EQ(r->as_of_index, ledger_->log().size() - 1);
}

TEST_F(FundBalancesTest, AsOfAnEntryShowsTheBalancesAfterIt) {
  Result<FundBalanceReport> r = Of("F1", std::to_string(first_));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->as_of_index, first_);
  ASSERT_EQ(r->buckets.size(), 2u);  // a bucket opened later shows as empty then
  EXPECT_EQ(r->buckets[0].balance.posted_fen, 0);
  EXPECT_EQ(r->buckets[1].balance.posted_fen, 1'000'000);
  EXPECT_EQ(r->posted, Amount::Fen(1'000'000));
  Result<FundBalanceReport> before = Of("F1", std::to_string(first_ - 1));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->posted, Amount::Zero());
}

TEST_F(FundBalancesTest, AsOfATimeOrADateIsTheLastEntryStampedByThen) {
  Result<FundBalanceReport> later = Of("F1", "2999-01-01");
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(later->as_of_index, ledger_->log().size() - 1);
  EXPECT_EQ(later->posted, Amount::Fen(1'000'250));
  EXPECT_EQ(Of("F1", "2999-01-01T00:00:00+08:00")->as_of_index, ledger_->log().size() - 1);
  Result<FundBalanceReport> before_genesis = Of("F1", "1999-12-31");
  EXPECT_EQ(before_genesis.status().code(), StatusCode::kNotFound);
}

TEST_F(FundBalancesTest, AnEntryNotYetWrittenOrAFundThatDoesNotExistIsNotFound) {
  Result<FundBalanceReport> future = Of("F1", std::to_string(ledger_->log().size()));
  EXPECT_EQ(future.status().code(), StatusCode::kNotFound);
  EXPECT_NE(future.status().message().find("does not exist yet"), std::string::npos);
  EXPECT_EQ(Of("NOPE", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Of("NOPE", "1").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fundledger::testing
