// The log: fundledger's append-only, hash-chained, Merkle-tree store of entries, on RocksDB.
//
// A data directory holds `store/` (RocksDB) and `signing.key` (the Ed25519 key that signs
// checkpoints; C2SP signer-key form, mode 0600). Entry 0 is the genesis entry naming the
// origin and the public key.
//
// RocksDB column families (all integers big-endian, so byte order is numeric order):
//   entries      u64 index                 -> Entry bytes exactly as hashed
//   tree         't' || u8 tile level || u64 tile index -> a complete tile: the nodes of eight
//                tree levels over 256 bottom nodes; 0x00 || u64 index -> the leaf hash of an
//                entry whose tile is not complete (tree_tiles.h: tree layout 2)
//   idempotency  key bytes                 -> u64 first index || u64 count || 32-byte request
//   digest meta         "format" | "origin" | "size" | "tree_layout" -> text | text | u64 | "2"
//   checkpoints  u64 tree size             -> signed checkpoint note, as served
//
// Writes: one writer thread orders entries. Callers Submit() submissions and wait for their
// future; the writer takes every queued submission (up to a group limit), assigns indexes,
// timestamps and prev hashes, extends the tree, signs a checkpoint, and writes all of it
// in one RocksDB WriteBatch with sync: an entry, its tree nodes, its idempotency record, the
// new size and the checkpoint are durable together or not at all (group commit: concurrent
// submitters share one fsync). Only then are the futures fulfilled.
//
// Reads are thread-safe and see committed entries only.
//
//   auto log = Log::Open(dir, {});
//   Result<AppendResult> r = (*log)->Append(Submission{"key-1", {entry}});
//   std::string note = *(*log)->LatestCheckpoint();
#pragma once

#include <any>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "ledger/entry_codec.h"
#include "ledger/log_source.h"
#include "ledger/tree_tiles.h"

namespace rocksdb {
class CompactionFilter;
class DB;
class Env;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace fundledger {

// Limits (TigerBeetle style: every queue and batch is bounded).
inline constexpr size_t kSubmissionEntriesMax = 65'536;  // entries in one atomic submission
inline constexpr size_t kGroupEntriesMax = 65'536;       // entries in one WriteBatch (soft: one
                                                         // larger submission still goes alone)
inline constexpr size_t kQueueSubmissionsMax = 4'096;    // waiting submissions before 503
inline constexpr uint64_t kOpenCheckEntries = 64;        // tail entries re-verified on open

// Column family names; tests use them to tamper with a store as an attacker would.
inline constexpr const char* kEntriesColumn = "entries";
inline constexpr const char* kTreeColumn = "tree";
inline constexpr const char* kIdempotencyColumn = "idempotency";
inline constexpr const char* kMetaColumn = "meta";
inline constexpr const char* kCheckpointsColumn = "checkpoints";
inline constexpr const char* kProjectionsColumn = "projections";  // rows owned by projections/
inline constexpr const char* kVaultColumn = "vault";              // sealed personal data

std::string StorePath(const std::string& data_dir);       // <dir>/store
std::string SigningKeyPath(const std::string& data_dir);  // <dir>/signing.key
std::string EntryKey(uint64_t index);

struct LogOptions {
  // fsync every commit. Off only to measure the cost of durability in benchmarks.
  bool sync = true;
  // 0: sign a checkpoint in every commit. Otherwise at most one per interval: a commit signs
  // one when the interval since the last has run out, an idle writer signs one when it runs
  // out with entries unsigned, and Close signs the rest. Saves the signature (~25 µs of the
  // writer) on most commits; an entry's inclusion proof waits up to the interval for a
  // checkpoint that covers it.
  int64_t checkpoint_interval_ms = 0;
  // Opens without the writer and without the signing key (verify, prove, export); may run
  // beside a server that holds the store.
  bool read_only = false;
  // Re-verifies the tail entries and the latest checkpoint on open. Full verification turns
  // this off so that its walk from entry 0, not the tail check, names the first bad entry;
  // only allowed with read_only.
  bool check_tail_on_open = true;
  // The RocksDB environment; tests inject one that fails writes (a full or read-only disk).
  rocksdb::Env* env = nullptr;
  // Clock for entry timestamps (UTC ms); tests inject a deterministic one.
  std::function<int64_t()> now_ms;
};

// A record for the personal-data vault column, written in the same batch as the entries.
struct VaultWrite {
  std::string key;
  std::string value;  // empty: delete the key
};

// One command's entries, appended atomically and at most once per idempotency key.
struct Submission {
  std::string idempotency_key;  // empty: no idempotency
  std::vector<NewEntry> entries;
  std::vector<VaultWrite> vault;  // not part of the log, nor of the idempotency digest
  // The commit hook's decoded form of `entries`, when the submitter built the payloads from it
  // (the domain's events, already field-checked): spares a decode on the writer thread.
  std::any decoded;
};

// The domain's part in a commit, called on the writer thread only. Stage validates one
// submission against current state (including earlier submissions of the same group), then
// applies it to memory and adds its rows to `batch`. On error it must leave memory as it was;
// the log rolls the batch back to before the submission. Commit / Abort end the group.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  virtual Status Stage(const Submission& submission, uint64_t first_index, int64_t timestamp_ms,
                       rocksdb::WriteBatch& batch) = 0;
  virtual void Commit() = 0;
  virtual void Abort() = 0;
};

struct AppendResult {
  uint64_t first_index = 0;
  uint64_t count = 0;
  bool replayed = false;  // the key was seen before with the same request: nothing appended
};

class Log final : public LogSource {
 public:
  // Creates a data directory: the store, a new signing key and the genesis entry.
  static Result<std::unique_ptr<Log>> Create(const std::string& data_dir, std::string_view origin,
                                             LogOptions options = {});
  // Opens an existing data directory after checking that metadata, the tail of the log, the
  // tree and the latest checkpoint agree; names the first bad index when they do not.
  static Result<std::unique_ptr<Log>> Open(const std::string& data_dir, LogOptions options = {});

  ~Log() override;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Finishes queued submissions, signs a final checkpoint if the latest is behind, stops the
  // writer and closes the store. Later submissions fail with kOverloaded.
  Status Close();

  std::future<Result<AppendResult>> Submit(Submission submission);
  Result<AppendResult> Append(Submission submission) { return Submit(std::move(submission)).get(); }

  uint64_t size() const override { return committed_size_.load(std::memory_order_acquire); }
  const std::string& origin() const { return verifier_.name; }
  const NoteVerifier& verifier() const { return verifier_; }
  std::string vkey() const { return FormatVerifierKey(verifier_); }

  Result<Bytes> ReadEntry(uint64_t index) const;
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override;
  Result<std::string> LatestCheckpoint() const;
  Result<std::string> CheckpointAt(uint64_t size) const;
  // Calls fn(index, bytes) for committed entries in [begin, end) in order; stops at an error.
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override;
  Status ScanEntriesUnaligned(uint64_t begin, uint64_t end,
                              const std::function<Status(uint64_t, ByteView)>& fn) const override;
  // Calls fn(size, note) for every stored checkpoint, oldest first.
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override;

  struct Stats {
    uint64_t commits = 0;      // WriteBatches written
    uint64_t submissions = 0;  // submissions appended
    uint64_t entries = 0;      // entries appended
    uint64_t rejected = 0;     // submissions refused (rules, conflicts, I/O)
    uint64_t group_entries_max = 0;
    uint64_t queue_depth = 0;
  };
  Stats stats() const;

  // Installs the domain. Call before the first Submit; the hook must outlive the log.
  void SetCommitHook(CommitHook* hook);
  rocksdb::DB* db() const { return db_.get(); }
  bool read_only() const { return options_.read_only; }
  rocksdb::ColumnFamilyHandle* projections_column() const { return projections_cf_; }
  rocksdb::ColumnFamilyHandle* vault_column() const { return vault_cf_; }
  // The last index whose timestamp is <= timestamp_ms (binary search over entries).
  Result<uint64_t> IndexAtTime(int64_t timestamp_ms) const;

  std::unique_ptr<NodeCursor> OpenNodeCursor(uint8_t level, uint64_t start) const override;

  Result<std::vector<Hash>> ProveInclusion(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash>> ProveConsistency(uint64_t old_size, uint64_t size) const;

 private:
  struct Pending {
    Submission submission;
    std::promise<Result<AppendResult>> promise;
  };

  Log(std::string data_dir, LogOptions options);
  Status OpenDb(bool create);
  // Refuses a store whose metadata names any format or tree layout but this build's.
  Status CheckFormat();
  Status LoadAndCheck();
  // The incomplete tiles of a layout-2 tree of `size` leaves, from the store (on open).
  Status LoadEdge(uint64_t size);
  TreeTiles::Put TreePutInto(rocksdb::WriteBatch& batch) const;
  Result<Hash> ReadTiledNode(uint8_t level, uint64_t index) const;
  Result<Bytes> ReadStoredEntry(uint64_t index) const;  // no bound check against size()
  void StartWriter();
  void WriterLoop();
  void CommitGroup(std::vector<std::unique_ptr<Pending>>& group);
  // Writes a signed checkpoint over every committed entry, alone in its WriteBatch (writer
  // thread, or Close once the writer has stopped).
  // `failure` prefixes the error when the write fails.
  Status CheckpointAll(bool sync, const char* failure);
  // With checkpoint_interval_ms, when the interval runs out with entries unsigned.
  void SignPendingCheckpoint();
  // ScanEntries and ScanEntriesUnaligned: `aligned` copies each value into 8-byte aligned words.
  Status Scan(uint64_t begin, uint64_t end, bool aligned,
              const std::function<Status(uint64_t, ByteView)>& fn) const;
  Status WriteCheckpoint(void* batch, uint64_t size, const Hash& root);
  int64_t NowMs() const;
  // The upper-level node cache (writable logs): a copy in memory of every stored node of
  // level >= kCachedLevelMin, loaded on the first read that needs it and extended by the
  // writer after each commit. Proofs then read only their few lowest nodes from RocksDB.
  std::optional<Hash> CachedNode(uint8_t level, uint64_t index) const;
  void LoadUpperNodes() const;  // under upper_mu_ held exclusively
  void CacheUpperNodes(const std::vector<std::tuple<uint8_t, uint64_t, Hash>>& nodes);

  const std::string data_dir_;
  const LogOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* entries_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* tree_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* idem_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* projections_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* vault_cf_ = nullptr;
  CommitHook* hook_ = nullptr;  // set before the first submission, read by the writer
  bool write_failed_ = false;   // the last commit failed: resume the store before the next

  NoteVerifier verifier_;
  std::optional<NoteSigner> signer_;  // absent when read-only

  // Writer-thread state (touched only by the writer once it runs).
  MerkleFrontier frontier_;
  TreeTiles edge_tiles_;  // the incomplete tiles at frontier_.size(), with what is staged
  Hash last_leaf_hash_{};
  int64_t last_timestamp_ms_ = 0;
  uint64_t checkpoint_size_ = 0;
  int64_t last_checkpoint_ms_ = 0;

  std::atomic<uint64_t> committed_size_{0};
  // The incomplete tiles of the committed tree, for readers; written by the writer only.
  mutable std::shared_mutex edge_mu_;
  TreeTiles edge_readers_;
  std::atomic<bool> drop_covered_rows_{false};  // the store has layout 2: TreeRowFilter may drop
  std::unique_ptr<rocksdb::CompactionFilter> tree_row_filter_;
  std::atomic<uint64_t> stat_commits_{0}, stat_submissions_{0}, stat_entries_{0}, stat_rejected_{0},
      stat_group_max_{0};

  // 32 bytes per 2^kCachedLevelMin leaves: 80 MB at 10M entries.
  static constexpr uint8_t kCachedLevelMin = 3;
  mutable std::shared_mutex upper_mu_;
  mutable bool upper_loaded_ = false;
  mutable std::vector<std::vector<Hash>> upper_;  // [level - kCachedLevelMin][index]

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::thread writer_;
  bool closed_ = false;
};

// The digest that identifies a submission's request for idempotency: the same key with a
// different digest is a conflict.
Hash SubmissionDigest(const Submission& submission);

}  // namespace fundledger
