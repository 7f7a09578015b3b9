// The log: fundledger's append-only, hash-chained, Merkle-tree store of entries, on RocksDB.
//
// Log creates and opens a data directory (log_format.h has its layout and every byte of the
// store), checks a store on open, and serves reads: entries, tree nodes, proofs, checkpoints.
// Entry 0 is the genesis entry naming the origin and the public key. Appends go to the log's
// one writer thread (log_writer.h: group commit, where entries are written to disk); the tree
// is kept by TreeStore (tree_store.h).
//
// Threads. Reads are thread-safe and see committed entries only: size() is the log size the
// writer published last, after the commit's fsync returned and its tree nodes were published.
// Submit and Append from any thread. Create, Open, Close and SetCommitHook from the owner.
//
//   auto log = Log::Open(dir, {});
//   Result<AppendResult> r = (*log)->Append(Submission{"key-1", {entry}});
//   std::string note = *(*log)->LatestCheckpoint();
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "ledger/entry_codec.h"
#include "ledger/log_clock.h"
#include "ledger/log_format.h"
#include "ledger/log_of_record.h"
#include "ledger/log_source.h"
#include "ledger/log_writer.h"
#include "ledger/tree_store.h"

namespace rocksdb {
class CompactionFilter;
class DB;
class Env;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace fundledger {

inline constexpr uint64_t kOpenCheckEntries = 64;  // tail entries re-verified on open

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
  // The time for entry timestamps and the checkpoint interval (log_clock.h); the system clock when
  // null. A ManualLogClock lets a test drive the writer's checkpoint timer. Must outlive the log.
  LogClock* clock = nullptr;
  // Shorthand for a clock that reads entry timestamps (UTC ms) from this function and waits in
  // real time; for tests that fix the time of entries. Ignored when `clock` is set.
  std::function<int64_t()> now_ms;
  // Cluster mode: each commit group is made durable there first (log_of_record.h); null: the
  // local store is the log of record. Must outlive the log.
  LogOfRecord* log_of_record = nullptr;
};

class Log final : public LogSource {
 public:
  // Creates a data directory: the store, a new signing key and the genesis entry.
  static Result<std::unique_ptr<Log>> Create(const std::string& data_dir, std::string_view origin,
                                             LogOptions options = {});
  // Creates a replica's data directory (cluster mode) from the log of record's genesis entry and
  // the checkpoint of size 1: the signing key must already be at DIR/signing.key (deployed to
  // every writer-eligible node) and be the key the genesis entry names.
  static Result<std::unique_ptr<Log>> CreateReplica(const std::string& data_dir,
                                                    const Bytes& genesis,
                                                    const std::string& checkpoint_note,
                                                    LogOptions options = {});
  // Opens an existing data directory after checking that it has this build's format and that
  // metadata, the tail of the log, the tree and the latest checkpoint agree; names the first
  // bad index when they do not.
  static Result<std::unique_ptr<Log>> Open(const std::string& data_dir, LogOptions options = {});

  ~Log() override;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Finishes queued submissions, signs a final checkpoint if the latest is behind, stops the
  // writer and closes the store. Later submissions fail with kOverloaded.
  Status Close();

  std::future<Result<AppendResult>> Submit(Submission submission);
  Result<AppendResult> Append(Submission submission) { return Submit(std::move(submission)).get(); }
  // Stores entries committed elsewhere, which the caller verified (cluster mode's followers):
  // see ReplicatedGroup. Returns once they are durable and readers see them.
  Result<AppendResult> AppendReplicated(const ReplicatedGroup& group);

  uint64_t size() const override { return committed_size_.load(std::memory_order_acquire); }
  const std::string& origin() const { return verifier_.name; }
  const NoteVerifier& verifier() const { return verifier_; }
  std::string vkey() const { return FormatVerifierKey(verifier_); }

  Result<Bytes> ReadEntry(uint64_t index) const;
  // The committed submission an idempotency key names, if any: a command route looks its key
  // up before its own checks, so a retry is judged against what it committed.
  Result<std::optional<IdempotencyRecord>> FindIdempotencyRecord(const std::string& key) const;
  // The C2SP entry bundle of the `width` committed entries from `first` (a multiple of 256):
  // a complete bundle as stored, a partial one encoded from its entries.
  Result<std::string> ReadEntryBundle(uint64_t first, uint64_t width) const;
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override;
  Result<std::string> LatestCheckpoint() const;
  Result<std::string> CheckpointAt(uint64_t size) const;
  // Calls fn(index, bytes) for committed entries in [begin, end) in order; stops at an error.
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override;
  Status ScanEntriesUnaligned(uint64_t begin, uint64_t end,
                              const std::function<Status(uint64_t, ByteView)>& fn) const override;
  // Skips RocksDB's block checksums: the caller compares every entry's leaf hash with the tree.
  Status ScanEntriesHashChecked(uint64_t begin, uint64_t end, bool aligned,
                                const std::function<Status(uint64_t, ByteView)>& fn) const override;
  // Calls fn(size, note) for every stored checkpoint, oldest first.
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override;

  using Stats = LogWriter::Stats;
  Stats stats() const;  // zeros when read-only

  // Installs the domain. Call before the first Submit; the hook must outlive the log.
  void SetCommitHook(CommitHook* hook);
  rocksdb::DB* db() const { return db_.get(); }
  // Moves every column's recent writes into tables and compacts the vault column, so neither a
  // write-ahead log file nor an older table still holds a deleted vault row (erasure).
  Status ForgetDeletedVaultRows();
  bool read_only() const { return options_.read_only; }
  rocksdb::ColumnFamilyHandle* projections_column() const { return columns_.projections; }
  rocksdb::ColumnFamilyHandle* vault_column() const { return columns_.vault; }
  // The last index whose timestamp is <= timestamp_ms (binary search over entries).
  Result<uint64_t> IndexAtTime(int64_t timestamp_ms) const;

  std::unique_ptr<NodeCursor> OpenNodeCursor(uint8_t level, uint64_t start) const override;
  std::unique_ptr<TreeCursor> OpenTreeCursor() const override;
  std::unique_ptr<TreeCursor> OpenTreeCursorHashChecked() const override;

  Result<std::vector<Hash>> ProveInclusion(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash>> ProveConsistency(uint64_t old_size, uint64_t size) const;

 private:
  Log(std::string data_dir, LogOptions options);
  Status OpenDb(bool create);
  // Refuses a store whose metadata names any format or tree layout but this build's.
  Status CheckFormat();
  // The recorded size, checked against the entries column and the tree.
  Result<uint64_t> LoadSize();
  // Re-verifies the last kOpenCheckEntries entries (structure, index, chain, leaf hash).
  Status CheckTail(uint64_t size, LogTip& tip);
  // The latest checkpoint: signed by the genesis key, over the stored tree. Its size.
  Result<uint64_t> CheckLatestCheckpoint(uint64_t size);
  // Everything Open checks; the tip the writer continues from.
  Result<LogTip> LoadAndCheck();
  Status StartWriter(NoteSigner signer, LogTip tip);
  Result<Bytes> ReadStoredEntry(uint64_t index) const;  // no bound check against size()
  struct ScanOptions {
    bool aligned = true;          // copies each entry into 8-byte aligned words
    bool hashes_checked = false;  // ScanEntriesHashChecked: no block checksums
  };
  // Every ScanEntries*: single values and bundles in key order.
  Status Scan(uint64_t begin, uint64_t end, const ScanOptions& how,
              const std::function<Status(uint64_t, ByteView)>& fn) const;
  // A store of kLogFormatSingles: its complete bundles written as bundles, then its format
  // kLogFormat. Each bundle is one write, so a crash leaves a store that reads both forms.
  Status ConvertToBundles(uint64_t size);
  // `why` prefixed with "store DIR is inconsistent and was not opened".
  Status StoreError(std::string why) const;

  const std::string data_dir_;
  const LogOptions options_;
  std::unique_ptr<LogClock> own_clock_;  // for options_.now_ms
  LogClock& clock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  LogColumns columns_;
  // The tree column's compaction filter, and when it may drop rows (after CheckFormat).
  std::unique_ptr<rocksdb::CompactionFilter> tree_row_filter_;
  std::atomic<bool> tree_rows_droppable_{false};
  std::unique_ptr<TreeStore> tree_;
  NoteVerifier verifier_;
  // The log size readers see; stored by the writer last in each commit.
  std::atomic<uint64_t> committed_size_{0};
  std::unique_ptr<LogWriter> writer_;  // null when read-only
  bool singles_format_ = false;        // the store's format is kLogFormatSingles
  bool closed_ = false;
};

}  // namespace fundledger
