// What the cluster tests start and stop themselves, on loopback ports in temporary
// directories: one PostgreSQL 15 instance (initdb + pg_ctl, as scripts/bench does) or a whole
// Patroni cluster (scripts/cluster up / down); and a writer's view of a test log that builds
// commit groups of distinct entries with signed checkpoints.
//
// Run as root, PostgreSQL runs as the postgres user (runuser), as scripts/cluster does.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/pg_log_store.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "tests/test_util.h"

namespace fundledger::testing {

inline constexpr const char* kPgBinDir = "/usr/lib/postgresql/15/bin";
inline constexpr const char* kClusterOrigin = "cluster.fundledger.local";  // scripts/cluster's

// Why the tests cannot run here ("" when they can): PostgreSQL (and, with `patroni`, Patroni
// and etcd) not installed. scripts/setup installs them.
std::string MissingForCluster(bool patroni);

// Runs a shell command if this process ends while the object lives, however it ends (a crash,
// a test runner's SIGKILL on timeout): the servers the tests start outlive their starter, so
// they would be left running. A detached shell (not a descendant, so a runner that kills the
// process tree spares it) waits on a pipe that only this process writes; EOF without the word
// "done", which the destructor writes, runs the command.
class CleanupIfKilled {
 public:
  explicit CleanupIfKilled(const std::string& command);
  ~CleanupIfKilled();
  CleanupIfKilled(const CleanupIfKilled&) = delete;
  CleanupIfKilled& operator=(const CleanupIfKilled&) = delete;

 private:
  int fd_ = -1;
};

// One PostgreSQL instance in a temporary directory, stopped and removed with the object.
class TestPostgres {
 public:
  TestPostgres();
  ~TestPostgres();
  bool ok() const { return ok_; }
  const std::string& dsn() const { return dsn_; }  // as the superuser "test"
  // A connection for the test's own statements (locks, pg_terminate_backend, settings).
  std::unique_ptr<PgConnection> Admin() const;

 private:
  TempDir dir_;
  std::string data_;
  CleanupIfKilled cleanup_;
  std::string dsn_;
  bool ok_ = false;
};

// A suite against one PostgreSQL instance it starts itself (skipped when PostgreSQL is not
// installed), with stores of its logs.
class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  // A store of log `origin` (a follower's when read_only), or null after a failure.
  static std::unique_ptr<PgLogStore> Store(const std::string& origin, bool read_only = false);
  // Every entry of the log as a follower reads it.
  static std::vector<StoredEntry> ReadAll(const std::string& origin);

  static TestPostgres* pg_;
};

// A member of the cluster as DIR/cluster.json lists it.
struct ClusterMember {
  std::string name;
  int port = 0;
  int pid = 0;          // postmaster; 0 when not running
  int patroni_pid = 0;  // 0 when not running
  std::string role;     // "primary", "standby", "down"
};

// A ledger node as DIR/cluster.json lists it.
struct ClusterNodeInfo {
  std::string name;
  std::string url;
  int port = 0;
  int pid = 0;       // 0 when not running
  std::string role;  // "writer", "follower", "stopped", "down"
};

// scripts/cluster up in a temporary directory (with its three ledger nodes, or --no-nodes);
// scripts/cluster down when destroyed.
class TestCluster {
 public:
  explicit TestCluster(bool with_nodes = false);
  ~TestCluster();
  bool ok() const { return ok_; }
  // scripts/cluster up again: starts the members that are not running (and the ledger nodes
  // from then on when `with_nodes`).
  bool Up(bool with_nodes);
  bool Up() { return Up(with_nodes_); }
  // Before the ledger nodes first start: `fundledger roll-city --cluster` as n0, which creates
  // the log as its first writer in n0's data dir, holding the roll benchmarks' city of
  // `people` (api/city_builder.h PostRollCity: program dibao, fund F, people B0..).
  bool CreateRollCity(size_t people);
  std::chrono::milliseconds up_time() const { return up_time_; }  // of the last Up()
  const std::string& dsn() const { return dsn_; }
  // scripts/cluster status, then its members.
  std::vector<ClusterMember> Status();
  // scripts/cluster backup: a base backup of the primary into the cluster's directory.
  bool Backup();
  // scripts/cluster restore into a fresh directory (stopped with this object): the restored
  // PostgreSQL's DSN, or "" after a failure.
  std::string Restore();
  // A file of the cluster's directory, e.g. "nodes/n0/data/signing.key".
  std::string Path(const std::string& file) const { return dir_.Sub("c/" + file); }
  std::string RestoredDir() const { return dir_.Sub("restored"); }
  // The ledger nodes and tokens of the last Status().
  const std::vector<ClusterNodeInfo>& nodes() const { return nodes_; }
  const std::map<std::string, std::string>& tokens() const { return tokens_; }

 private:
  TempDir dir_;
  CleanupIfKilled cleanup_;
  std::string dsn_;
  std::chrono::milliseconds up_time_{0};
  bool with_nodes_ = false;
  std::vector<ClusterNodeInfo> nodes_;
  std::map<std::string, std::string> tokens_;
  bool ok_ = false;
};

// Live processes whose command line names `dir` (zombies excluded).
std::vector<int> ProcessesUsing(const std::string& dir);

// A commit group and the bytes its entries view.
struct TestGroup {
  std::vector<Bytes> bytes;
  std::vector<GroupEntry> entries;
  AppendGroupRequest request;
};

// The writer's side of a test log: each group's entries are distinct (a serial number, then
// pseudo-random bytes), chain on from the acknowledged head, and may carry a checkpoint signed
// with the log's own key.
class TestWriterLog {
 public:
  explicit TestWriterLog(std::string origin);
  const std::string& origin() const { return origin_; }
  uint64_t size() const { return tree_.size(); }
  Hash last_leaf_hash() const { return last_leaf_hash_; }

  // `count` new entries of `entry_bytes` each after the acknowledged head; signed: with the
  // checkpoint of the size the group ends at.
  std::unique_ptr<TestGroup> Next(uint64_t epoch, size_t count, size_t entry_bytes, bool sign);
  std::unique_ptr<TestGroup> NextWith(uint64_t epoch, std::vector<Bytes> entries, bool sign);
  // The checkpoint a group of `leaves` after the current head would end with.
  std::string SignCheckpoint(const std::vector<Hash>& leaves) const;
  // Moves the head past an acknowledged group.
  void Acknowledged(const TestGroup& group);
  // Leaf hash of every acknowledged entry, by index.
  const std::vector<Hash>& leaves() const { return leaves_; }

 private:
  std::string origin_;
  NoteSigner signer_;
  MerkleFrontier tree_;
  std::vector<Hash> leaves_;
  Hash last_leaf_hash_{};
  uint64_t serial_ = 0;
};

}  // namespace fundledger::testing
