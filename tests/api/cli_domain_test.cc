// The domain commands of the `fundledger` binary: replay compares a rebuild with the stored
// projections, --repair restores them after tampering, balance answers as of an entry, and
// erase removes a person's data while the chain still verifies.
#include <fstream>

#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class CliDomain : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F1", "general", 1'000'000);
    appropriation_index_ = ledger_->log().size() - 1;
    Register("B1");
    Enroll("B1", "dibao", 104500);
    Ok(Prepare("R1", "F1", "general", 202503, {{1, "B1", "dibao", 202503, 104500}}));
    Ok(Approve("R1"));
    ASSERT_TRUE(ledger_->Close().ok());
    ledger_.reset();
  }
  void TearDown() override {}
  CommandResult Cli(const std::string& args) {
    return RunCommand(CliPath() + " " + args + " --data " + dir_);
  }
  uint64_t appropriation_index_ = 0;
};

TEST_F(CliDomain, ReplayMatchesTheStoredProjections) {
  CommandResult r = Cli("replay");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("identical to the replay"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("double entry holds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fund/F1/general"), std::string::npos) << r.out;
  CommandResult partial = Cli("replay --to " + std::to_string(appropriation_index_));
  EXPECT_EQ(partial.exit_code, 0) << partial.out;
  EXPECT_NE(partial.out.find("10000.00"), std::string::npos) << partial.out;
}

TEST_F(CliDomain, TamperedProjectionsAreRefusedOnOpenAndRepairedFromTheLog) {
  {
    RawStore raw(dir_);
    raw.Put(kProjectionsColumn, "r/dibao/202503/999999",
            std::string(24, '\x01'));  // a region never paid
  }
  Projections p;
  Result<std::unique_ptr<Ledger>> l = Ledger::Open(dir_, WithProjections(p, {}));
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("differ from a replay of the log"), std::string::npos)
      << l.status().message();
  CommandResult check = Cli("replay");
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_NE(check.out.find("DIFFER"), std::string::npos) << check.out;
  CommandResult repair = Cli("replay --repair");
  EXPECT_EQ(repair.exit_code, 0) << repair.out;
  EXPECT_EQ(Cli("replay").exit_code, 0);
  Projections again;
  EXPECT_TRUE(Ledger::Open(dir_, WithProjections(again, {})).ok());
}

TEST_F(CliDomain, BalanceNowAndAsOfAnEntry) {
  CommandResult now = Cli("balance --fund F1");
  ASSERT_EQ(now.exit_code, 0) << now.out;
  EXPECT_NE(now.out.find("8955.00"), std::string::npos) << now.out;  // 10,000 - 1,045
  CommandResult then = Cli("balance --fund F1 --as-of " + std::to_string(appropriation_index_));
  ASSERT_EQ(then.exit_code, 0) << then.out;
  EXPECT_NE(then.out.find("10000.00"), std::string::npos) << then.out;
  EXPECT_NE(Cli("balance --fund NOPE").exit_code, 0);
  CommandResult bad = Cli("balance --fund F1 --as-of yesterday");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--as-of takes"), std::string::npos) << bad.out;
  CommandResult by_time = Cli("balance --fund F1 --as-of 2999-01-01T00:00:00Z");
  EXPECT_EQ(by_time.exit_code, 0) << by_time.out;
  EXPECT_NE(by_time.out.find("8955.00"), std::string::npos) << by_time.out;
}

// The CLI reads "as of" exactly as HTTP does (ParseAsOf): a date, a time with an offset, and
// every bad text is exit code 2 naming --as-of, an over-long number included.
TEST_F(CliDomain, BalanceAsOfTakesTheTextsHttpTakes) {
  CommandResult by_date = Cli("balance --fund F1 --as-of 2999-12-31");
  EXPECT_EQ(by_date.exit_code, 0) << by_date.out;
  EXPECT_NE(by_date.out.find("8955.00"), std::string::npos) << by_date.out;
  CommandResult by_offset = Cli("balance --fund F1 --as-of 2999-01-01T08:00:00+08:00");
  EXPECT_EQ(by_offset.exit_code, 0) << by_offset.out;
  EXPECT_NE(by_offset.out.find("total"), std::string::npos) << by_offset.out;
  for (const char* bad : {"99999999999999999999999", "2025-03-31T23:59:59", "2025-02-30"}) {
    CommandResult r = Cli(std::string("balance --fund F1 --as-of ") + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--as-of takes"), std::string::npos) << r.out;
  }
  CommandResult before = Cli("balance --fund F1 --as-of 1999-12-31");
  EXPECT_EQ(before.exit_code, 2) << before.out;
  CommandResult future = Cli("balance --fund F1 --as-of 1000000");
  EXPECT_EQ(future.exit_code, 2) << future.out;
  EXPECT_NE(future.out.find("does not exist yet"), std::string::npos) << future.out;
}

TEST_F(CliDomain, SnapshotThenReplayFromItMatches) {
  CommandResult snap = Cli("snapshot");
  ASSERT_EQ(snap.exit_code, 0) << snap.out;
  size_t at = snap.out.find(" written to ");
  ASSERT_NE(at, std::string::npos) << snap.out;
  std::string path = snap.out.substr(at + 12, snap.out.find('\n', at) - at - 12);
  CommandResult full = Cli("replay");
  CommandResult tail = Cli("replay --from-snapshot " + path);
  ASSERT_EQ(tail.exit_code, 0) << tail.out;
  EXPECT_NE(tail.out.find("from snapshot at"), std::string::npos) << tail.out;
  auto digest_line = [](const std::string& out) {
    return out.substr(out.find("projection digest:"), 90);
  };
  EXPECT_EQ(digest_line(tail.out), digest_line(full.out));
  EXPECT_EQ(Cli("balance --fund F1").exit_code, 0);  // opens from the snapshot
}

TEST_F(CliDomain, ImportPreparesARollOrReportsEveryBadLine) {
  std::string bad = tmp_.Sub("bad.csv"), good = tmp_.Sub("good.csv");
  { std::ofstream(bad) << "受益人编号,项目,金额\nB1,dibao,1045.00\nB1,dibao,x\n,dibao,1\n"; }
  CommandResult r = Cli("import " + bad + " --fund F1 --period 2025-04");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("line 3: amount"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 4: beneficiary_id"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was posted"), std::string::npos) << r.out;
  { std::ofstream(good) << "受益人编号,项目,金额\nB1,dibao,1045.00\n"; }
  r = Cli("import " + good + " --fund F1 --period 2025-04");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("prepared batch ROLL-F1-2025-04: 1 lines, 1045.00 yuan"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("checked 2 of 2 lines"), std::string::npos)
      << r.out;  // plain progress off a terminal
  r = Cli("import " + good + " --fund F1 --period 2025-04");
  EXPECT_NE(r.out.find("already prepared"), std::string::npos) << r.out;
}

TEST_F(CliDomain, EraseThenVerifyPasses) {
  CommandResult r = Cli("erase --beneficiary B1 --reason 'request 2025-7'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Cli("verify").exit_code, 0);
  EXPECT_EQ(Cli("replay").exit_code, 0);
  Projections p;
  std::unique_ptr<Ledger> l = std::move(Ledger::Open(dir_, WithProjections(p, {}))).value();
  EXPECT_EQ(l->ReadPersonalData("B1").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fundledger::testing
