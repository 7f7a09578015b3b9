// A follower node's ledger against the log of record in PostgreSQL: started empty it catches up
// from genesis, holds the writer's entries byte for byte with the same checkpoints and serves
// proofs that verify; a node taking over answers a retried key as replayed from its rebuilt
// key index; a row altered in PostgreSQL is caught, named, and nothing of it is applied; a node
// far behind catches up in steps of many groups.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cluster/log_follower.h"
#include "cluster/pg_log_of_record.h"
#include "crypto/checkpoint.h"
#include "ledger/log_format.h"
#include "replay/chain_verifier.h"
#include "tests/cluster/cluster_fixture.h"

namespace fundledger::testing {
namespace {

constexpr int64_t kCatchUpMs = 60'000;

class ClusterFollowerTest : public PostgresSuite {
 protected:
  static std::unique_ptr<PgLogOfRecord> Record(const std::string& origin, const std::string& node) {
    std::unique_ptr<PgLogStore> store = Store(origin);
    Result<WriterLease> lease = store->AcquireWriter(node, /*evict_holder=*/true);
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    return std::make_unique<PgLogOfRecord>(std::move(store), lease->epoch, nullptr);
  }

  // The writer node: a log whose groups go to PostgreSQL first.
  struct Writer {
    TempDir dir;
    std::unique_ptr<PgLogOfRecord> record;
    std::unique_ptr<Log> log;
  };
  static std::unique_ptr<Writer> StartWriter(const std::string& origin) {
    auto w = std::make_unique<Writer>();
    w->record = Record(origin, "node-a");
    LogOptions options;
    options.log_of_record = w->record.get();
    auto log = Log::Create(w->dir.path(), origin, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (log.ok()) w->log = std::move(*log);
    return w;
  }

  static void Post(Log& log, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = log.Append(MemoSubmission(prefix + std::to_string(i), {"memo", "second"}));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  // A node's data directory with the log's signing key deployed.
  static void DeployKey(const Writer& writer, const std::string& dir) {
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(SigningKeyPath(writer.dir.path()), SigningKeyPath(dir));
  }

  // A follower node started empty: the writer's key deployed, its ledger created from the log
  // of record's genesis, a read-only store to tail the log with.
  struct Node {
    TempDir dir;
    std::unique_ptr<PgLogStore> store;
    std::unique_ptr<Ledger> ledger;
  };
  static std::unique_ptr<Node> StartNode(const Writer& writer) {
    auto n = std::make_unique<Node>();
    DeployKey(writer, n->dir.path());
    n->store = Store(writer.log->origin(), /*read_only=*/true);
    auto ledger = LogFollower::OpenReplica(*n->store, n->dir.path(), {});
    EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
    if (ledger.ok()) n->ledger = std::move(*ledger);
    return n;
  }

  // Runs one statement on log_entries with its append-only triggers off (an attacker's edit).
  void PastTheTriggers(const std::string& statement) {
    std::unique_ptr<PgConnection> admin = pg_->Admin();
    for (const std::string& sql :
         {std::string("ALTER TABLE log_entries DISABLE TRIGGER USER"), statement,
          std::string("ALTER TABLE log_entries ENABLE TRIGGER USER")}) {
      Result<PgResult> r = admin->Exec(sql, DeadlineAfterMs(30'000));
      ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    }
  }

  // A writer that posted `posts` memo groups, and a node started empty that caught up with it.
  static void StartCaughtUp(const std::string& origin, int posts, std::unique_ptr<Writer>& writer,
                            std::unique_ptr<Node>& node) {
    writer = StartWriter(origin);
    ASSERT_NE(writer->log, nullptr);
    Post(*writer->log, "a", posts);
    node = StartNode(*writer);
    ASSERT_NE(node->ledger, nullptr);
    Status caught =
        LogFollower(*node->store).CatchUp(*node->ledger, writer->log->size(), kCatchUpMs);
    ASSERT_TRUE(caught.ok()) << caught.ToString();
  }
};

TEST_F(ClusterFollowerTest, AnEmptyFollowerCatchesUpAndServesProofsThatVerify) {
  std::unique_ptr<Writer> writer;
  std::unique_ptr<Node> node;
  ASSERT_NO_FATAL_FAILURE(StartCaughtUp("test.example/follower", 10, writer, node));
  Post(*writer->log, "b", 5);  // and keeps up with what comes after
  Status caught = LogFollower(*node->store).CatchUp(*node->ledger, writer->log->size(), kCatchUpMs);
  ASSERT_TRUE(caught.ok()) << caught.ToString();

  const Log& replica = node->ledger->log();
  ASSERT_EQ(replica.size(), 31u);
  for (uint64_t i = 0; i < replica.size(); ++i)
    ASSERT_EQ(*replica.ReadEntry(i), *writer->log->ReadEntry(i)) << "entry " << i;
  EXPECT_EQ(*replica.LatestCheckpoint(), *writer->log->LatestCheckpoint());
  EXPECT_EQ(node->ledger->domain().Read([](const DomainState& s) { return s.next_index; }), 31u);
  Result<Checkpoint> cp = OpenCheckpoint(*replica.LatestCheckpoint(), writer->log->verifier());
  ASSERT_TRUE(cp.ok());
  auto proof = replica.ProveInclusion(17, cp->size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(
      VerifyInclusion(17, cp->size, HashLeaf(*writer->log->ReadEntry(17)), *proof, cp->root).ok());
}

// A node far behind (here: 200 groups, each with its checkpoint) takes them in one verified
// step up to the furthest checkpoint, not one step per group.
TEST_F(ClusterFollowerTest, AFollowerFarBehindTakesManyGroupsInOneStep) {
  const std::string origin = "test.example/far-behind";
  auto writer = StartWriter(origin);
  ASSERT_NE(writer->log, nullptr);
  Post(*writer->log, "g", 200);

  auto node = StartNode(*writer);
  ASSERT_NE(node->ledger, nullptr);
  // The step's head is known before the step applies anything (the node's lag gauge).
  LogFollower follower(*node->store);
  uint64_t head_seen = 0, applied_then = 0;
  follower.set_head_observer([&](const LogHead& head) {
    head_seen = head.next_index;
    applied_then = node->ledger->log().size();
  });
  Result<LogHead> head = follower.Step(*node->ledger, kFollowerWaitMs);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head_seen, writer->log->size());
  EXPECT_EQ(applied_then, 1u);  // the genesis entry only
  const Log& replica = node->ledger->log();
  EXPECT_EQ(replica.size(), writer->log->size());
  EXPECT_EQ(*replica.LatestCheckpoint(), *writer->log->LatestCheckpoint());
  EXPECT_EQ(node->ledger->domain().Read([](const DomainState& s) { return s.next_index; }),
            writer->log->size());
}

TEST_F(ClusterFollowerTest, ANodeTakingOverAnswersARetriedKeyAsReplayed) {
  const std::string origin = "test.example/takeover";
  auto writer = StartWriter(origin);
  ASSERT_NE(writer->log, nullptr);
  Post(*writer->log, "k", 4);

  TempDir node;
  DeployKey(*writer, node.path());
  {
    auto store = Store(origin, /*read_only=*/true);
    auto ledger = LogFollower::OpenReplica(*store, node.path(), {});
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ASSERT_TRUE(LogFollower(*store).CatchUp(**ledger, writer->log->size(), kCatchUpMs).ok());
    ASSERT_TRUE((*ledger)->Close().ok());
  }
  // node-b takes over from node-a, whose log then appends nothing.
  auto record = Record(origin, "node-b");
  LedgerOptions options;
  options.log.log_of_record = record.get();
  auto ledger = Ledger::Open(node.path(), options);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  Result<AppendResult> retry = (*ledger)->log().Append(MemoSubmission("k2", {"memo", "second"}));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_index, 5u);
  EXPECT_EQ(Store(origin, true)->Head()->next_index, 9u);
  Result<AppendResult> fresh = (*ledger)->log().Append(MemoSubmission("k9", {"memo"}));
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->first_index, 9u);
  EXPECT_EQ(Store(origin, true)->Head()->next_index, 10u);
  EXPECT_EQ(writer->log->Append(MemoSubmission("stale", {"memo"})).status().rule(), kWriterFenced);
}

// A node added from another node's backup (`fundledger backup`, then `restore` against the
// record's checkpoint) takes only the tail from PostgreSQL; a store of another log is refused.
TEST_F(ClusterFollowerTest, ANodeJoinsFromAnotherNodesBackupAndAForkedStoreIsRefused) {
  const std::string origin = "test.example/join";
  std::unique_ptr<Writer> writer;
  std::unique_ptr<Node> node;
  ASSERT_NO_FATAL_FAILURE(StartCaughtUp(origin, 10, writer, node));
  const std::string kept = node->dir.Sub("kept-checkpoint");
  std::ofstream(kept) << *node->ledger->log().LatestCheckpoint();
  const uint64_t backed_up = node->ledger->log().size();

  TempDir backups;
  const std::string backup = backups.Sub("b"), joined = backups.Sub("n2");
  for (const std::string& command :
       {" backup --data " + node->dir.path() + " --to " + backup + " --vault-rows " +
            backups.Sub("rows"),
        " restore --from " + backup + " --to " + joined + " --checkpoint " + kept}) {
    CommandResult r = RunCommand(CliPath() + command + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.out;
  }
  // The node's vault key (kept outside its data directory) goes with a copied store.
  std::filesystem::create_directories(joined + ".keys");
  std::filesystem::copy_file(node->dir.path() + ".keys/vault.key", joined + ".keys/vault.key");
  Post(*writer->log, "after", 5);
  auto store = Store(origin, /*read_only=*/true);
  auto ledger = LogFollower::OpenReplica(*store, joined, {});
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ((*ledger)->log().size(), backed_up);  // from the backup, not from genesis
  ASSERT_TRUE(LogFollower(*store).CatchUp(**ledger, writer->log->size(), kCatchUpMs).ok());
  EXPECT_EQ(*(*ledger)->log().LatestCheckpoint(), *writer->log->LatestCheckpoint());

  TempDir other;  // a store of its own log under the same origin
  {
    auto fork = Ledger::Create(other.path(), origin);
    ASSERT_TRUE(fork.ok()) << fork.status().ToString();
    Post((*fork)->log(), "fork", 3);
    ASSERT_TRUE((*fork)->Close().ok());
  }
  auto refused = LogFollower::OpenReplica(*store, other.path(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
  EXPECT_NE(refused.status().message().find("does not join"), std::string::npos)
      << refused.status().message();
}

TEST_F(ClusterFollowerTest, ARowAlteredInPostgresIsNamedAndNotApplied) {
  const std::string origin = "test.example/tampered";
  auto writer = StartWriter(origin);
  ASSERT_NE(writer->log, nullptr);
  Post(*writer->log, "t", 3);  // entries 1..6

  // Entry 4's bytes changed, its leaf hash recomputed to match (0x00 || entry, RFC 9162).
  std::unique_ptr<PgConnection> admin = pg_->Admin();
  for (const char* sql :
       {"ALTER TABLE log_entries DISABLE TRIGGER USER",
        "UPDATE log_entries SET entry = overlay(entry placing '\\xff'::bytea from 40 for 1), "
        "leaf_hash = sha256('\\x00'::bytea || overlay(entry placing '\\xff'::bytea from 40 for 1)) "
        "WHERE idx = 4 AND log_id = (SELECT log_id FROM log_heads WHERE origin = "
        "'test.example/tampered')",
        "ALTER TABLE log_entries ENABLE TRIGGER USER"}) {
    Result<PgResult> r = admin->Exec(sql, DeadlineAfterMs(30'000));
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  auto node = StartNode(*writer);
  ASSERT_NE(node->ledger, nullptr);
  Status caught = LogFollower(*node->store).CatchUp(*node->ledger, writer->log->size(), kCatchUpMs);
  ASSERT_EQ(caught.code(), StatusCode::kCorruption) << caught.ToString();
  EXPECT_NE(caught.message().find("entry 4 "), std::string::npos) << caught.message();
  EXPECT_EQ(node->ledger->log().size(), 3u);  // the groups before the altered one
}

// A follower stores the leaf hashes its verification computed (each entry hashed once): its
// stored tree, every node of it, and its root are the writer's.
TEST_F(ClusterFollowerTest, AFollowersTreeIsTheWritersNodeForNode) {
  std::unique_ptr<Writer> writer;
  std::unique_ptr<Node> node;
  ASSERT_NO_FATAL_FAILURE(StartCaughtUp("test.example/same-tree", 150, writer, node));
  const Log& replica = node->ledger->log();
  ASSERT_EQ(replica.size(), writer->log->size());
  for (uint8_t level = 0; (replica.size() >> level) > 0; ++level) {
    for (uint64_t index = 0; index < (replica.size() >> level); ++index) {
      ASSERT_EQ(*replica.ReadNode(level, index), *writer->log->ReadNode(level, index))
          << "level " << int{level} << ", node " << index;
    }
  }
  VerifyReport mine = VerifyChain(replica, {}), theirs = VerifyChain(*writer->log, {});
  ASSERT_TRUE(mine.valid) << mine.reason;
  EXPECT_EQ(mine.root, theirs.root);
  EXPECT_EQ(*replica.LatestCheckpoint(), *writer->log->LatestCheckpoint());
}

// The row's bytes intact, its stored leaf hash altered: the follower compares the hash its
// verification computed with the row's and names the row, applying only the groups before it.
TEST_F(ClusterFollowerTest, ARowWhoseStoredLeafHashAloneIsAlteredIsNamed) {
  const std::string origin = "test.example/leaf-column";
  auto writer = StartWriter(origin);
  ASSERT_NE(writer->log, nullptr);
  Post(*writer->log, "h", 3);  // entries 1..6, in groups of two

  ASSERT_NO_FATAL_FAILURE(PastTheTriggers(
      "UPDATE log_entries SET leaf_hash = sha256('\\x01'::bytea || entry) WHERE idx = 4 AND "
      "log_id = (SELECT log_id FROM log_heads WHERE origin = 'test.example/leaf-column')"));

  auto node = StartNode(*writer);
  ASSERT_NE(node->ledger, nullptr);
  const Status named =
      LogFollower(*node->store).CatchUp(*node->ledger, writer->log->size(), kCatchUpMs);
  EXPECT_EQ(node->ledger->log().size(), 3u);  // the groups before the altered row
  ASSERT_EQ(named.code(), StatusCode::kCorruption) << named.ToString();
  EXPECT_NE(named.message().find("entry 4 of the log of record"), std::string::npos)
      << named.message();
  EXPECT_NE(named.message().find("stored leaf hash"), std::string::npos) << named.message();
}

}  // namespace
}  // namespace fundledger::testing
