// Logs imported from elsewhere (entries appended without the domain's rules) whose amounts
// add up past 64 bits of fen: every reader that sums them (the rebuild of the projections,
// `fundledger replay`, opening a ledger, the anomaly checks, a disclosure report) refuses the
// log with a Corruption naming the entry where a sum would overflow, instead of wrapping.
#include <limits>

#include "projections/disclosure.h"
#include "replay/anomaly_checks.h"
#include "replay/rebuild.h"
#include "tests/replay/imported_log.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kMaxFen = std::numeric_limits<int64_t>::max();

class ImportedSums : public ImportedLog {
 protected:
  std::string Entry(uint64_t index) { return "entry " + std::to_string(index) + ":"; }
};

TEST_F(ImportedSums, ARegionTotalBeyond64BitsIsRefusedByTheRebuildReplayAndOpen) {
  // Two funds, each paying one person of district 110101 all it holds for one month: every
  // balance fits, but the district's total for that month does not.
  Program("dibao", kMaxFen, kMaxFen);
  Fund("F1", fb::FundKind::subsidy, {"dibao"});
  Fund("F2", fb::FundKind::subsidy, {"dibao"});
  Money("F1", "general", kMaxFen, "treasury");
  Money("F2", "general", kMaxFen, "lottery_pool");
  Person("P1", "110101", 1);
  Person("P2", "110101", 2);
  Pay("R1", "F1", "general", {{1, "P1", "dibao", 202403, kMaxFen}});
  Pay("R2", "F2", "general", {{1, "P2", "dibao", 202403, kMaxFen}});
  const uint64_t overflowing = log_->size() - 1;  // R2's approval pays

  RebuildReport r = RebuildProjections(*log_, {});
  ASSERT_FALSE(r.verify.valid);
  EXPECT_FALSE(r.verify.unusable);
  EXPECT_EQ(r.verify.bad_index, overflowing);
  EXPECT_NE(r.verify.reason.find(Entry(overflowing)), std::string::npos) << r.verify.reason;
  EXPECT_NE(r.verify.reason.find("r/dibao/202403/110101"), std::string::npos) << r.verify.reason;
  EXPECT_NE(r.verify.reason.find("overflow"), std::string::npos) << r.verify.reason;
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();

  CommandResult replay = RunCommand(CliPath() + " replay --data " + dir());
  EXPECT_EQ(replay.exit_code, 1) << replay.out;
  EXPECT_NE(replay.out.find("INVALID at entry " + std::to_string(overflowing)), std::string::npos)
      << replay.out;
  EXPECT_NE(replay.out.find("overflow"), std::string::npos) << replay.out;

  Projections projections;
  LedgerOptions options = WithProjections(projections, {});
  options.log.read_only = true;
  Result<std::unique_ptr<Ledger>> opened = Ledger::Open(dir(), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find(Entry(overflowing)), std::string::npos)
      << opened.status().message();
}

TEST_F(ImportedSums, ACharitysYearBeyond64BitsIsRefusedByTheChecksAndTheReport) {
  // A charity is given the most two buckets can hold (each from its own source) and spends it
  // all on school meals in one year: each balance fits, the year's money in and out does not.
  At(2024, 3, 1);
  Fund("F-CH", fb::FundKind::charity, {});
  Money("F-CH", "general", kMaxFen, "treasury");
  Money("F-CH", "meals", kMaxFen, "lottery_pool");
  const uint64_t income_overflowing = log_->size() - 1;
  ExpenseSpec meals{.fund = "F-CH",
                    .payee = "school",
                    .purpose = "meals",
                    .amount_fen = kMaxFen,
                    .document = "inv"};
  Raw(Expenditure(meals));
  meals.bucket = "meals";
  meals.expense_class = fb::ExpenseClass::admin;  // paid to another payee account: it fits
  Raw(Expenditure(meals));
  const uint64_t spending_overflowing = log_->size() - 1;

  // The checks add up a charity's spending per year (appropriations are not its income).
  Result<std::vector<Finding>> findings = RunAnomalyChecks(*log_, {});
  ASSERT_FALSE(findings.ok());
  EXPECT_EQ(findings.status().code(), StatusCode::kCorruption);
  EXPECT_NE(findings.status().message().find(Entry(spending_overflowing)), std::string::npos)
      << findings.status().message();
  EXPECT_NE(findings.status().message().find("the year's spending of F-CH"), std::string::npos)
      << findings.status().message();

  Result<DisclosureReport> report =
      ComputeDisclosure(*log_, log_->size(), {"fund", "F-CH", "2024"}, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCorruption);
  // The report adds up what came in first.
  EXPECT_NE(report.status().message().find(Entry(income_overflowing)), std::string::npos)
      << report.status().message();
  EXPECT_NE(report.status().message().find("appropriations"), std::string::npos)
      << report.status().message();
}

}  // namespace
}  // namespace fundledger::testing
