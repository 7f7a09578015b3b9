// LogFollower: keeps a node's local ledger (its RocksDB: entries, tree, checkpoints, domain
// state, projections) a verified copy of the log of record in PostgreSQL.
//
// Each Step reads the entries after the local size up to the furthest signed checkpoint at most
// kFollowerStepEntriesMax entries ahead, verifies them on replay's code path (VerifyChain, from
// the local tree and chain: structure, index, prev hash, timestamps, leaf hashes, the
// checkpoint's signature by the node's trusted key and its root), and only then stores and
// applies them (Ledger::ApplyReplicated). Each entry is hashed once, by the verification: its
// leaf hash is compared with the row's stored one and handed to the store, and the very bytes
// read are verified, stored and applied (no copy between, no second FlatBuffers verification). A
// row that fails is a Corruption naming its index; of the step, only the groups before it (to the
// last checkpoint before it, verified again against that one) are applied: the node stops applying
// rather than serve it. A node's local store ahead of the log of record (it holds entries
// PostgreSQL never acknowledged) is refused the same way.
//
//   auto ledger = *LogFollower::OpenReplica(store, dir, options);   // from genesis if empty
//   LogFollower follower(store);
//   follower.set_head_observer([&](const LogHead& head) { lag.Set(head.next_index); });
//   Result<LogHead> head = follower.Step(*ledger, kFollowerWaitMs);
//
// Threads: one thread uses a LogFollower and its store at a time; the head observer runs on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/pg_log_store.h"
#include "ledger/ledger.h"
#include "ledger/log_writer.h"

namespace fundledger {

inline constexpr int64_t kFollowerWaitMs = 1'000;  // a Step's wait for new entries
// Entries one Step reads, verifies and applies at most: one local WriteBatch. A Step takes
// every signed group up to the furthest checkpoint within it, so a node far behind catches up
// in a few large steps, not one step (two queries, a verification, a local commit) per group.
inline constexpr uint64_t kFollowerStepEntriesMax = kGroupEntriesMax;

class LogFollower {
 public:
  explicit LogFollower(PgLogStore& store) : store_(store) {}

  // Called with the log of record's head as each Step reads it, before that Step reads,
  // verifies and applies anything: a node knows how far behind it is while it applies a large
  // step, not only once the step is done.
  using HeadObserver = std::function<void(const LogHead&)>;
  void set_head_observer(HeadObserver observer) { head_observer_ = std::move(observer); }

  // The node's ledger: opened from `data_dir`, or, when it has no store yet, created from the
  // log of record's genesis entry and first checkpoint (the signing key must be deployed at
  // DIR/signing.key first: Log::CreateReplica). A store that exists (a restart, a restored
  // backup of another node) must end at a checkpoint the log of record holds with the same
  // root: else Corruption, "this node does not join".
  static Result<std::unique_ptr<Ledger>> OpenReplica(PgLogStore& store, const std::string& data_dir,
                                                     LedgerOptions options);

  // Waits at most wait_ms for entries beyond the ledger's size, then verifies and applies
  // those up to the furthest checkpoint within kFollowerStepEntriesMax. Returns the log of record's
  // head as last read.
  Result<LogHead> Step(Ledger& ledger, int64_t wait_ms);
  // Steps until the ledger holds `size` entries, for at most timeout_ms.
  Status CatchUp(Ledger& ledger, uint64_t size, int64_t timeout_ms);

 private:
  // Entries [begin, end) of the log of record, with the leaf hashes their rows store (not
  // checked against the bytes yet: Step compares them with the verification's).
  struct ReadGroup {
    std::vector<Bytes> entries;
    std::vector<Hash> stored_leaf_hashes;
  };
  Result<ReadGroup> ReadRange(uint64_t begin, uint64_t end);
  // Verifies `read` (entries from the ledger's size on) against `checkpoint`, then applies what
  // verified: all of it, or the groups before the first row at fault (to the last checkpoint
  // before it), and names that row.
  Status VerifyAndApply(Ledger& ledger, ReadGroup read, const StoredCheckpoint& checkpoint);

  PgLogStore& store_;
  HeadObserver head_observer_;
};

}  // namespace fundledger
