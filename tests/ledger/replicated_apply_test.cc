// A follower's apply (Ledger::ApplyReplicated) of entries with the leaf hashes its verification
// handed back: the replica's entries, tree, checkpoint and projections are the writer's, with
// nothing hashed or verified a second time; hashes that are not one per entry are refused with
// nothing stored.
#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/log_format.h"
#include "replay/chain_verifier.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

class ReplicatedApplyTest : public LedgerFixture {
 protected:
  // The writer's ledger after a paid monthly roll: funds, people, a roll and its approval.
  void PostARoll() {
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104'500, 104'500);
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    std::vector<RollLine> lines;
    for (uint32_t i = 1; i <= 40; ++i) {
      const std::string ben = "B" + std::to_string(i);
      Register(ben);
      Enroll(ben, "dibao", 104'500);
      lines.push_back(RollLine{i, ben, "dibao", 202503, 104'500});
    }
    Appropriate("F1", "general", 10'000'000);
    Ok(Prepare("R1", "F1", "general", 202503, lines));
    Ok(Approve("R1"));
  }

  // A replica of the writer's log created from its genesis, as a follower node starts.
  void StartReplica() {
    replica_dir_ = tmp_.Sub("replica");
    std::filesystem::create_directories(replica_dir_);
    std::filesystem::copy_file(SigningKeyPath(dir_), SigningKeyPath(replica_dir_));
    replica_projections_ = std::make_unique<Projections>();
    Result<std::unique_ptr<Ledger>> replica = Ledger::CreateReplica(
        replica_dir_, *ledger_->log().ReadEntry(0), *ledger_->log().CheckpointAt(1),
        WithProjections(*replica_projections_, {}));
    ASSERT_TRUE(replica.ok()) << replica.status().ToString();
    replica_ = std::move(replica).value();
  }

  // The writer's entries [1, size) as a follower gets them: verified from the replica's tree
  // on, against the writer's latest checkpoint, with the leaf hashes the walk computed.
  ReplicatedGroup VerifiedGroup() {
    const Log& writer = ledger_->log();
    VerifyOptions options;
    options.begin = 1;
    options.threads = 1;
    options.keep_leaf_hashes = true;
    VerifyReport report = VerifyChain(writer, options);
    EXPECT_TRUE(report.valid) << report.reason;
    ReplicatedGroup group;
    for (uint64_t i = 1; i < writer.size(); ++i) group.entries.push_back(*writer.ReadEntry(i));
    group.checkpoint_note = *writer.LatestCheckpoint();
    group.leaf_hashes = std::move(report.leaf_hashes);
    return group;
  }

  uint64_t ReplicaDomainSize() const {
    return replica_->domain().Read([](const DomainState& s) { return s.next_index; });
  }

  std::string replica_dir_;
  std::unique_ptr<Projections> replica_projections_;
  std::unique_ptr<Ledger> replica_;
};

TEST_F(ReplicatedApplyTest, EntriesWithHandedOverHashesGiveTheWritersTreeRootAndProjections) {
  ASSERT_NO_FATAL_FAILURE(PostARoll());
  ASSERT_NO_FATAL_FAILURE(StartReplica());
  ReplicatedGroup group = VerifiedGroup();
  ASSERT_EQ(group.leaf_hashes.size(), group.entries.size());
  Result<AppendResult> applied = replica_->ApplyReplicated(std::move(group));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();

  const Log& writer = ledger_->log();
  const Log& replica = replica_->log();
  ASSERT_EQ(replica.size(), writer.size());
  EXPECT_EQ(*replica.LatestCheckpoint(), *writer.LatestCheckpoint());
  // Every stored tree node (the leaves included) is the writer's.
  for (uint8_t level = 0; (writer.size() >> level) > 0; ++level) {
    for (uint64_t index = 0; index < (writer.size() >> level); ++index) {
      ASSERT_EQ(*replica.ReadNode(level, index), *writer.ReadNode(level, index))
          << "level " << int{level} << ", node " << index;
    }
  }
  // The replica verifies whole against its stored tree, with the writer's root.
  VerifyReport mine = VerifyChain(replica, {}), theirs = VerifyChain(writer, {});
  ASSERT_TRUE(mine.valid) << mine.reason;
  EXPECT_EQ(mine.root, theirs.root);
  // The domain applied every entry, to the writer's projections.
  EXPECT_EQ(ReplicaDomainSize(), writer.size());
  GatedProjections replica_projections{replica_->domain(), *replica_projections_};
  EXPECT_EQ(replica_projections.digest(), projections().digest());
  EXPECT_EQ(replica_projections.rows(), projections().rows());
  EXPECT_TRUE(replica_->Close().ok());
}

TEST_F(ReplicatedApplyTest, LeafHashesThatAreNotOnePerEntryAreRefusedWithNothingStored) {
  ASSERT_NO_FATAL_FAILURE(PostARoll());
  ASSERT_NO_FATAL_FAILURE(StartReplica());
  for (int extra : {-1, +1}) {
    ReplicatedGroup group = VerifiedGroup();
    if (extra < 0) {
      group.leaf_hashes.pop_back();
    } else {
      group.leaf_hashes.push_back(group.leaf_hashes.back());
    }
    Result<AppendResult> refused = replica_->ApplyReplicated(std::move(group));
    ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
    EXPECT_NE(refused.status().message().find("leaf hashes"), std::string::npos)
        << refused.status().message();
    EXPECT_EQ(replica_->log().size(), 1u);
    EXPECT_EQ(ReplicaDomainSize(), 1u);
  }
  // The same entries with their hashes, one each, are then stored and applied.
  ASSERT_TRUE(replica_->ApplyReplicated(VerifiedGroup()).ok());
  EXPECT_EQ(replica_->log().size(), ledger_->log().size());
  EXPECT_TRUE(replica_->Close().ok());
}

}  // namespace
}  // namespace fundledger::testing
