// Snapshots: opening or rebuilding from a snapshot plus the tail gives exactly the state of a
// full replay; a damaged, forged or foreign snapshot is never used.
#include "replay/snapshot.h"

#include <fstream>

#include "crypto/key_file.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class SnapshotTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F1", "general", 10'000'000);
    for (int i = 0; i < 20; ++i) {
      Register("B" + std::to_string(i));
      Enroll("B" + std::to_string(i), "dibao", 104500);
    }
    Roll("R1", 202501);
  }
  void Roll(const std::string& id, int32_t period) {
    std::vector<RollLine> lines;
    for (int i = 0; i < 20; ++i)
      lines.push_back(
          {static_cast<uint32_t>(i + 1), "B" + std::to_string(i), "dibao", period, 104500});
    Ok(Prepare(id, "F1", "general", period, lines));
    Ok(Approve(id));
  }
  SnapshotInfo Snap() {
    NoteSigner signer = *ReadSignerKeyFile(SigningKeyPath(dir_));
    Result<SnapshotInfo> info =
        WriteSnapshot(dir_, ledger_->log(), signer, ledger_->domain(), *projections_);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return *info;
  }
  // Reopens using snapshots; returns the domain state bytes.
  std::string ReopenWithSnapshots() {
    EXPECT_TRUE(ledger_->Close().ok());
    ledger_.reset();
    projections_ = std::make_unique<Projections>();
    Result<std::unique_ptr<Ledger>> l =
        Ledger::Open(dir_, WithSnapshots(dir_, *projections_, WithProjections(*projections_, {})));
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    return ledger_->domain().SaveState();
  }
};

TEST_F(SnapshotTest, OpenFromSnapshotPlusTailEqualsAFullReplay) {
  SnapshotInfo info = Snap();
  EXPECT_EQ(info.size, ledger_->log().size());
  Roll("R2", 202502);
  Ok(ChangeStatus("B3", fb::BeneficiaryStatus::deceased, 20250310));
  std::string live_state = ledger_->domain().SaveState();
  Hash live_digest = projections().digest();
  std::string restored = ReopenWithSnapshots();
  EXPECT_EQ(restored, live_state);
  EXPECT_EQ(projections().digest(), live_digest);
  // And the rules still hold after it: B3 died, R2 paid February.
  Result<AppendResult> r =
      Prepare("R3", "F1", "general", 202504, {{1, "B3", "dibao", 202504, 104500}});
  EXPECT_EQ(r.status().details().at(0).rule(), "deceased");
  r = Prepare("R2b", "F1", "general", 202502, {{1, "B1", "dibao", 202502, 104500}});
  EXPECT_EQ(r.status().details().at(0).rule(), "duplicate_payment");
  ExpectInvariants();
}

// What each person was paid, after a snapshot load (the domain's names interned again) and
// more payments to people old and new, is what a replay of the whole log gives.
TEST_F(SnapshotTest, PaidTotalsAfterASnapshotLoadEqualAFullReplay) {
  Snap();
  ReopenWithSnapshots();
  for (int i = 20; i < 25; ++i) {
    Register("B" + std::to_string(i));
    Enroll("B" + std::to_string(i), "dibao", 104500);
  }
  std::vector<RollLine> lines;
  for (int i = 24; i >= 0; i -= 2)
    lines.push_back({static_cast<uint32_t>(lines.size() + 1), "B" + std::to_string(i), "dibao",
                     202502, 104500});
  Ok(Prepare("R2", "F1", "general", 202502, lines));
  Ok(Approve("R2"));
  const std::string live = projections_->SaveState();
  const std::map<std::string, PaidTotal> b24 = projections().PaidTo("B24");
  const std::map<std::string, PaidTotal> b4 = projections().PaidTo("B4");
  const std::map<std::string, RegionTotal> regions = projections().RegionTotals("dibao");
  ASSERT_EQ(b24.size(), 1u);
  ASSERT_EQ(b4.size(), 2u);
  EXPECT_EQ(b4.at("dibao/202502").amount_fen, 104500);
  EXPECT_TRUE(projections().PaidTo("B3").count("dibao/202501"));
  EXPECT_FALSE(projections().PaidTo("B3").count("dibao/202502"));

  Reopen();  // no snapshots: a replay of the whole log
  EXPECT_EQ(projections_->SaveState(), live);
  EXPECT_EQ(projections().PaidTo("B24"), b24);
  EXPECT_EQ(projections().PaidTo("B4"), b4);
  const std::map<std::string, RegionTotal> replayed_regions = projections().RegionTotals("dibao");
  ASSERT_EQ(replayed_regions.size(), regions.size());
  for (const auto& [key, r] : regions) {
    EXPECT_EQ(replayed_regions.at(key).amount_fen, r.amount_fen) << key;
    EXPECT_EQ(replayed_regions.at(key).beneficiaries, r.beneficiaries) << key;
  }
}

// Balances are held by account id, and a snapshot holds names: after a load the ids are
// interned afresh (in another order), and a refused approval, a new person's first payment and
// an old person's next one keep every balance, by name and by id, as a replay of the log has it.
TEST_F(SnapshotTest, BalancesAfterASnapshotLoadEqualAFullReplayByNameAndById) {
  Snap();
  ReopenWithSnapshots();
  Register("B20");
  Enroll("B20", "dibao", 104500);
  std::vector<RollLine> lines;
  for (int i = 20; i >= 0; i -= 4)
    lines.push_back({static_cast<uint32_t>(lines.size() + 1), "B" + std::to_string(i), "dibao",
                     202502, 104500});
  Ok(Prepare("R2", "F1", "general", 202502, lines));
  const std::string prepared = ledger_->domain().SaveState();
  fb::DisbursementBatchApprovedT approval;
  approval.batch_id = "R2";
  // Fails after the approval was applied: both roll back.
  const fb::ExpensedT too_large = ExpenseBeyondTheFund("F1", "dibao");
  Rejects(Do({approval, too_large}, kChecker), "insufficient_funds");
  EXPECT_TRUE(ledger_->domain().SaveState() == prepared) << "a refused approval changed state";
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B20")).posted_fen, 0);
  Ok(Approve("R2"));

  auto balances_by_id = [&] {
    return ledger_->domain().Read([](const DomainState& s) {
      std::map<std::string, int64_t> out;
      for (AccountId id = 0; id < s.accounts.id_end(); ++id) {
        if (const Balance* b = s.accounts.Get(id)) out[s.accounts.name(id)] = b->posted_fen;
      }
      return out;
    });
  };
  const std::map<std::string, int64_t> live = balances_by_id();
  EXPECT_EQ(live.at("ben/B20"), 104500);
  EXPECT_EQ(live.at("ben/B4"), 2 * 104500);
  EXPECT_EQ(live.at("ben/B3"), 104500);
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B4")).posted_fen, 2 * 104500);
  const std::string live_state = ledger_->domain().SaveState();
  const std::string live_projections = projections_->SaveState();

  Reopen();  // no snapshots: a replay of the whole log
  EXPECT_EQ(balances_by_id(), live);
  EXPECT_TRUE(ledger_->domain().SaveState() == live_state);
  EXPECT_EQ(projections_->SaveState(), live_projections);
  EXPECT_EQ(projections().BalanceOf(BeneficiaryAccount("B20")).posted_fen, 104500);
  ExpectInvariants();
}

TEST_F(SnapshotTest, RebuildFromSnapshotVerifiesTheTailAndMatches) {
  SnapshotInfo info = Snap();
  Roll("R2", 202502);
  RebuildReport full = RebuildProjections(ledger_->log(), {});
  RebuildOptions from;
  from.snapshot_path = info.path;
  RebuildReport tail = RebuildProjections(ledger_->log(), from);
  ASSERT_TRUE(tail.verify.valid) << tail.verify.reason;
  EXPECT_EQ(tail.snapshot_size, info.size);
  EXPECT_EQ(tail.verify.size, full.verify.size);
  EXPECT_EQ(HashHex(tail.digest), HashHex(full.digest));
  EXPECT_EQ(tail.fund_balances.at("fund/F1/general").posted_fen,
            full.fund_balances.at("fund/F1/general").posted_fen);
}

TEST_F(SnapshotTest, DamagedOrForeignSnapshotsAreNeverUsed) {
  SnapshotInfo info = Snap();
  {
    std::fstream f(info.path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x55');
  }
  Projections p;
  Domain d({&p});
  Result<SnapshotInfo> bad =
      LoadSnapshot(info.path, ledger_->log(), ledger_->log().verifier(), d, p);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("signature"), std::string::npos) << bad.status().message();
  // Opening ignores it and replays from entry 0: same state as before.
  std::string before = ledger_->domain().SaveState();
  EXPECT_EQ(ReopenWithSnapshots(), before);

  // A snapshot signed for another log does not verify with this log's key.
  TempDir other_dir;
  std::string other = other_dir.Sub("ledger");
  {
    std::unique_ptr<Ledger> o = std::move(Ledger::Create(other, "other.local")).value();
    Projections op;
    NoteSigner signer = *ReadSignerKeyFile(SigningKeyPath(other));
    SnapshotInfo foreign = *WriteSnapshot(other, o->log(), signer, o->domain(), op);
    Result<SnapshotInfo> r =
        LoadSnapshot(foreign.path, ledger_->log(), ledger_->log().verifier(), d, p);
    EXPECT_FALSE(r.ok());
  }
}

TEST_F(SnapshotTest, ASnapshotOfAnotherFormatIsRefusedSayingWhatToDoAndSkippedOnOpen) {
  for (std::string magic : {"FLSNAP02", "FLSNAP99"}) {
    SnapshotInfo info = Snap();
    {
      std::fstream f(info.path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(0);
      f.write(magic.data(), 8);
    }
    Projections p;
    Domain d({&p});
    Result<SnapshotInfo> other =
        LoadSnapshot(info.path, ledger_->log(), ledger_->log().verifier(), d, p);
    ASSERT_FALSE(other.ok());
    const std::string& why = other.status().message();
    EXPECT_NE(why.find("format '" + magic.substr(6) + "'"), std::string::npos) << why;
    EXPECT_NE(why.find("this build reads format '" + std::string(kSnapshotMagic.substr(6)) + "'"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("delete it and take a new one with `fundledger snapshot`"),
              std::string::npos)
        << why;
    std::string before = ledger_->domain().SaveState();
    EXPECT_EQ(ReopenWithSnapshots(), before);
  }
}

}  // namespace
}  // namespace fundledger::testing
