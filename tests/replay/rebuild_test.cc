// Rebuilding projections from the log: an imported log whose totals overflow 64 bits is
// refused at the entry that overflows, by the rebuild, `fundledger replay` and an open; stored
// projections of another layout are refused saying what to run, and rebuilt by the repair.
#include "replay/rebuild.h"

#include <limits>

#include "tests/replay/imported_log.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kMaxFen = std::numeric_limits<int64_t>::max();

class RebuildOfAnImportedLog : public ImportedLog {};

TEST_F(RebuildOfAnImportedLog, ARegionTotalBeyond64BitsIsACorruptionNamingTheEntry) {
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
  const std::string entry = "entry " + std::to_string(overflowing) + ":";

  RebuildReport r = RebuildProjections(*log_, {});
  ASSERT_FALSE(r.verify.valid);
  EXPECT_FALSE(r.verify.unusable);
  EXPECT_EQ(r.verify.bad_index, overflowing);
  EXPECT_NE(r.verify.reason.find(entry), std::string::npos) << r.verify.reason;
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
  EXPECT_NE(opened.status().message().find(entry), std::string::npos) << opened.status().message();
}

class StoredProjections : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F1", "general", 1'000'000);
    Register("B1");
    Enroll("B1", "dibao", 104500);
    Ok(Prepare("R1", "F1", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
    Ok(Approve("R1"));
    ASSERT_TRUE(ledger_->Close().ok());
    ledger_.reset();
  }
  Status Open() {
    Projections projections;
    return Ledger::Open(dir_, WithProjections(projections, {})).status();
  }
  CommandResult Cli(const std::string& args) {
    return RunCommand(CliPath() + " " + args + " --data " + dir_);
  }
};

TEST_F(StoredProjections, OfAnotherLayoutAreRefusedSayingWhatToDoAndRebuiltByTheRepair) {
  std::string row = RawStore(dir_).Get(kProjectionsColumn, kProjectionsDigestKey);
  ASSERT_EQ(row.size(), kProjectionsDigestRowBytes);
  std::string layout_two = row;
  layout_two[layout_two.size() - 1] = '\x02';  // the layout, a big-endian u64, is last
  const std::pair<std::string, std::string> others[] = {
      {layout_two, "the stored projections are in layout 2"},
      {row.substr(0, 40), "the stored projections have a digest row of 40 bytes"}};
  for (const auto& [value, found] : others) {
    RawStore(dir_).Put(kProjectionsColumn, kProjectionsDigestKey, value);
    Status open = Open();
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.code(), StatusCode::kCorruption);
    EXPECT_NE(open.message().find(found), std::string::npos) << open.message();
    EXPECT_NE(open.message().find("this build reads projections layout 3"), std::string::npos)
        << open.message();
    EXPECT_NE(open.message().find("`fundledger replay --repair`"), std::string::npos)
        << open.message();
    CommandResult check = Cli("replay");
    EXPECT_EQ(check.exit_code, 1) << check.out;
    EXPECT_NE(check.out.find(found), std::string::npos) << check.out;

    CommandResult repair = Cli("replay --repair");
    EXPECT_EQ(repair.exit_code, 0) << repair.out;
    EXPECT_EQ(RawStore(dir_).Get(kProjectionsColumn, kProjectionsDigestKey), row);
    EXPECT_TRUE(Open().ok());
    EXPECT_NE(Cli("replay").out.find("identical to the replay"), std::string::npos);
  }
}

}  // namespace
}  // namespace fundledger::testing
