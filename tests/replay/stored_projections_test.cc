// The projections as stored: a store of another layout (projections/projections.h) is
// refused on open and by `fundledger replay`, saying what was found, what this build reads and
// what to run; `fundledger replay --repair` rebuilds it from the log.
#include "projections/projections.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class StoredProjections : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenFund("F1", fb::FundKind::subsidy, {});
    Appropriate("F1", "general", 1'000'000);  // a history row, and the digest row
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
