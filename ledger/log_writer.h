// LogWriter: the log's one writer thread (group commit), and the only code that writes to the
// log's columns. The bytes it writes are in log_format.h.
//
// Where an entry is written to disk: in WriteDurably, as part of one RocksDB WriteBatch written
// with sync (LogOptions::sync, off only in benchmarks). Callers Submit() submissions and wait on a
// future. The writer thread takes every queued submission (up to kGroupEntriesMax entries: a commit
// group) and stages them in memory and in the batch:
//   StageSubmission  per submission, what the writer decides: an idempotency key seen before
//                    answers with the original range and appends nothing; the CommitHook (the
//                    domain) checks the submission against current state and adds its rows;
//                    each entry gets the next index, the group's timestamp (never earlier than
//                    the last) and the previous entry's leaf hash, and is encoded; the
//                    submission's idempotency record and vault rows are put.
//   StageEntry       per entry: the tree nodes its leaf completes (`tree`, through TreeStore).
//   StageTip         per group: the entries (`entries`: each bundle the group completes as one
//                    value, deleting the singles earlier groups stored of it; the entries of the
//                    incomplete bundle as singles), the new size (`meta`) and, unless
//                    checkpoint_interval_ms says
//                    the last one is recent, a checkpoint of the new root signed with the log's
//                    key (`checkpoints`).
// WriteDurably writes the batch: the whole group is durable, or none of it is. Only after it
// returns is the hook told Commit (or Abort), does Finish publish the tree and then the new size
// to readers, and are the futures fulfilled: nobody hears "committed" before the fsync, and when
// the write fails every submission of the group gets the error and memory is rolled back.
// The futures are fulfilled on a second thread, the answerer, to which the writer hands each
// finished group's answers (in group order, at most kAnswerGroupsMax groups waiting): waking a
// group's submitters (~1 ms for a group of 30 on a loaded 2-core host) then overlaps the next
// group's staging and its round trip to the log of record instead of delaying them.
//
// With checkpoint_interval_ms, an idle writer with entries unsigned signs a checkpoint alone
// when the interval runs out (its own group, through WriteDurably), and Close signs the rest.
//
// Threads. Submit, SetCommitHook and stats: any thread. Start, Close: the log's owner. The
// answerer thread fulfils the futures of submissions' groups (Answer), nothing else. The
// writer thread runs everything else; before Start, the thread creating the log may run
// WriteGenesis. Guarded by mu_: the queue, the stopping flag and the hook. The writer thread's
// alone: the tip (frontier, last leaf hash and timestamp, checkpoint state), the staging, the
// write-failed flag. Readers see a commit through TreeStore::Publish and then the committed
// size, which the writer stores last.
//
// Cluster mode (Options::log_of_record, log_of_record.h): WriteDurably first appends the group's
// entry bytes and checkpoint to the log of record (a PostgreSQL transaction), and writes the
// local batch only once that was acknowledged. That local write is synced only when the group
// carries vault rows (personal data, which the log of record does not hold): a node that lost
// its local tail with its machine catches up from the log of record before it serves. A follower
// stores entries committed elsewhere through replay, not through this writer.
//
//   LogWriter writer(columns, tree, signer, SystemLogClock(), committed_size, options, tip);
//   writer.Start();
//   Result<AppendResult> r = writer.Submit(Submission{"key-1", {entry}}).get();
#pragma once

#include <any>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/merkle.h"
#include "crypto/mutex.h"
#include "crypto/note.h"
#include "ledger/entry_codec.h"
#include "ledger/log_clock.h"
#include "ledger/log_format.h"
#include "ledger/log_of_record.h"
#include "ledger/tree_store.h"

namespace rocksdb {
class WriteBatch;
}  // namespace rocksdb

namespace fundledger {

// Limits (TigerBeetle style: every queue and batch is bounded).
inline constexpr size_t kSubmissionEntriesMax = 65'536;  // entries in one atomic submission
inline constexpr size_t kGroupEntriesMax = 65'536;       // entries in one WriteBatch (soft: one
                                                         // larger submission still goes alone)
inline constexpr size_t kQueueSubmissionsMax = 4'096;    // waiting submissions before 503
inline constexpr size_t kAnswerGroupsMax = 64;  // finished groups waiting for their answers
                                                // before the writer waits for the answerer
static_assert(kSubmissionEntriesMax <= kGroupEntriesMax, "a full submission fits one group");

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

// The digest that identifies a submission's request for idempotency: the same key with a
// different digest is a conflict.
Hash SubmissionDigest(const Submission& submission);

// The domain's part in a commit, called on the writer thread only. Stage validates one
// submission against current state (including earlier submissions of the same group), then
// applies it to memory and adds its rows to `batch`. On error it must leave memory as it was;
// the log rolls the batch back to before the submission. Commit / Abort end the group once
// its write returned or there was nothing to write (Commit), or the write failed (Abort).
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  virtual Status Stage(const Submission& submission, uint64_t first_index, int64_t timestamp_ms,
                       rocksdb::WriteBatch& batch) = 0;
  virtual void Commit() = 0;
  virtual void Abort() = 0;
};

// Entries committed elsewhere (cluster mode: read from the log of record and verified by the
// caller), stored as they are with the checkpoint that covers them: no commit hook, no signing,
// no log of record. `checkpoint_note` signs the size the entries end at ("" if none does).
// `leaf_hashes` is empty (the writer hashes each entry) or holds the leaf hash of each entry as
// VerifyChain handed it back for these very bytes (VerifyOptions::keep_leaf_hashes), one per
// entry: the writer builds the tree from them, and takes the entries as having passed
// DecodeEntry and VerifyPayload (no second FlatBuffers verification, here or in the domain).
struct ReplicatedGroup {
  std::vector<Bytes> entries;
  std::string checkpoint_note;
  std::vector<Hash> leaf_hashes;

  bool verified() const { return !leaf_hashes.empty(); }
};

struct AppendResult {
  uint64_t first_index = 0;
  uint64_t count = 0;
  bool replayed = false;  // the key was seen before with the same request: nothing appended
};

// The committed log as the writer continues it.
struct LogTip {
  MerkleFrontier frontier;  // the tree of every committed entry
  Hash last_leaf_hash{};    // of the last entry: the next entry's prev_leaf_hash
  int64_t last_timestamp_ms = 0;
  uint64_t checkpoint_size = 0;  // the size the latest signed checkpoint covers
};

class LogWriter final {
 public:
  struct Options {
    bool sync = true;                      // LogOptions::sync
    int64_t checkpoint_interval_ms = 0;    // LogOptions::checkpoint_interval_ms
    LogOfRecord* log_of_record = nullptr;  // LogOptions::log_of_record
  };
  struct Stats {
    uint64_t commits = 0;      // WriteBatches written
    uint64_t submissions = 0;  // submissions appended
    uint64_t entries = 0;      // entries appended
    uint64_t rejected = 0;     // submissions refused (rules, conflicts, I/O)
    uint64_t group_entries_max = 0;
    uint64_t queue_depth = 0;
    // Where the groups of submissions spent their time, summed (ns): from taking the group to
    // its answers being ready; of which staging (rules, encoding, hashing, signing), the log of
    // record's append (cluster mode), and the local store's write. Not counted: genesis, a
    // checkpoint signed alone, replicated groups. answer_ns: fulfilling the groups' futures
    // (waking each submitter), on the answerer thread beside the next groups.
    uint64_t commit_ns = 0, stage_ns = 0, record_ns = 0, store_ns = 0, answer_ns = 0;
  };

  // `committed_size` is the log's published size: the writer stores it last in each commit.
  // Everything passed by reference must outlive the writer.
  LogWriter(const LogColumns& columns, TreeStore& tree, NoteSigner signer, LogClock& clock,
            std::atomic<uint64_t>& committed_size, Options options, LogTip tip);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Before Start, on an empty store: writes entry 0 with the `meta` rows and a checkpoint, in
  // one batch with sync.
  Status WriteGenesis(const NewEntry& genesis, int64_t timestamp_ms,
                      const std::vector<std::pair<std::string, std::string>>& meta);
  void Start();
  // Answers every queued submission, stops the thread, and signs a final checkpoint if the
  // latest is behind. Later submissions fail with kOverloaded.
  Status Close();

  std::future<Result<AppendResult>> Submit(Submission submission) FL_EXCLUDES(mu_);
  // Queues entries committed elsewhere; they go in a group of their own. The result's range is
  // where they were stored. The writer reads `group` in place: REQUIRES it outlives the answer.
  // A group whose leaf hashes are not one per entry is refused (kInvalidArgument).
  std::future<Result<AppendResult>> SubmitReplicated(const ReplicatedGroup& group) FL_EXCLUDES(mu_);
  // Before Start, on an empty store: stores a replica's first group (the genesis entry) with the
  // `meta` rows.
  Status WriteReplicatedGenesis(const ReplicatedGroup& group,
                                const std::vector<std::pair<std::string, std::string>>& meta);
  // Installs the domain; the writer's next group uses it. The hook must outlive the writer.
  void SetCommitHook(CommitHook* hook) FL_EXCLUDES(mu_);
  Stats stats() const FL_EXCLUDES(mu_);

 private:
  struct Pending {
    Submission submission;
    const ReplicatedGroup* replicated = nullptr;  // set: entries committed elsewhere
    std::promise<Result<AppendResult>> promise;
  };
  // One group on its way to disk (writer thread).
  struct StagedGroup;
  // A finished group's submissions with their answers, for the answerer thread.
  struct Answers {
    std::vector<std::unique_ptr<Pending>> group;
    std::vector<Result<AppendResult>> results;  // one per submission, in order
    bool timed = false;                         // counted in answer_ns
  };

  void Run() FL_EXCLUDES(mu_);
  // Waits for submissions (or the checkpoint interval to run out) and moves a group of them
  // into `group`; false once stopping with nothing queued.
  bool TakeGroup(std::vector<std::unique_ptr<Pending>>& group, CommitHook*& hook,
                 bool& checkpoint_due) FL_EXCLUDES(mu_);
  // When an idle writer signs the unsigned entries: kNoDeadline when nothing waits for it.
  int64_t CheckpointDeadlineMs();
  void CommitGroup(std::vector<std::unique_ptr<Pending>>& group, CommitHook* hook);
  void BeginGroup(StagedGroup& staged, bool sync);
  void StageSubmission(StagedGroup& staged, const Submission& submission, CommitHook* hook);
  Result<std::optional<AppendResult>> LookUpIdempotencyKey(const StagedGroup& staged,
                                                           const Submission& submission,
                                                           const Hash& digest);
  // An entry encoded by this writer: hashed, held by the group, its leaf staged.
  void StageEntry(StagedGroup& staged, Bytes bytes);
  // The next entry's leaf hash into the group's tree and chain.
  void StageLeaf(StagedGroup& staged, const Hash& leaf);
  // Per group, once its entries are staged: each bundle the group completes as one value (the
  // singles earlier groups stored of it deleted), the entries of the incomplete one as singles.
  Status StageEntryValues(StagedGroup& staged);
  // The single values of committed entries [begin, end).
  Result<std::vector<std::string>> ReadSingles(uint64_t begin, uint64_t end);
  // Stores a ReplicatedGroup in a group of its own (writer thread, or before Start).
  Result<AppendResult> StoreReplicated(
      const ReplicatedGroup& group,
      const std::vector<std::pair<std::string, std::string>>& meta = {});
  // Its entries and the idempotency records of their keys (runs of one key are one submission).
  Status StageReplicatedEntries(StagedGroup& staged, const ReplicatedGroup& group);
  Status StageTip(StagedGroup& staged, bool sign);
  // The durable step: the only write of a group, with sync. A failed write leaves nothing.
  Status WriteDurably(StagedGroup& staged);
  // Cluster mode: the group appended to the log of record, acknowledged, before the local write.
  Status AppendToRecord(const StagedGroup& staged);
  // Whether the log of record holds everything the group writes (no vault rows, not the
  // genesis): then its local write is not synced.
  bool RecordHolds(const StagedGroup& staged) const;
  // After WriteDurably: readers see the group (tree, tip, size), or it is forgotten.
  void Finish(StagedGroup& staged, const Status& written);
  // Signs a checkpoint of every committed entry in a group of its own; `failure` prefixes a
  // write error.
  Status CheckpointAll(bool sync, const char* failure);
  void CountCommit(uint64_t appended);
  // Hands a finished group's answers to the answerer (writer thread); waits while
  // kAnswerGroupsMax groups wait for theirs.
  void HandOver(Answers answers) FL_EXCLUDES(answer_mu_);
  // The answerer thread: fulfils each handed-over group's futures, in order, until Close.
  void Answer() FL_EXCLUDES(answer_mu_);
  int64_t NowMs() { return clock_.NowMs(); }

  const LogColumns columns_;
  TreeStore& tree_;
  const NoteSigner signer_;
  LogClock& clock_;
  std::atomic<uint64_t>& committed_size_;
  const Options options_;

  // Writer thread only.
  LogTip tip_;
  int64_t last_checkpoint_ms_ = 0;
  bool write_failed_ = false;  // the last write failed: resume the store before the next
  // The log of record acknowledged a group the local store then failed to write: every later
  // group is refused (the node restarts and catches up from the log of record).
  bool behind_record_ = false;

  mutable Mutex mu_;
  std::condition_variable cv_;  // on mu_: a submission was queued, or stopping_ was set
  std::deque<std::unique_ptr<Pending>> queue_ FL_GUARDED_BY(mu_);
  bool stopping_ FL_GUARDED_BY(mu_) = false;
  CommitHook* hook_ FL_GUARDED_BY(mu_) = nullptr;

  std::thread thread_;

  Mutex answer_mu_;
  std::condition_variable answer_cv_;  // on answer_mu_: answers handed over, one taken, or closing
  std::deque<Answers> answers_ FL_GUARDED_BY(answer_mu_);
  bool answers_closing_ FL_GUARDED_BY(answer_mu_) = false;  // the writer thread has ended
  std::thread answer_thread_;

  std::atomic<uint64_t> stat_commits_{0}, stat_submissions_{0}, stat_entries_{0}, stat_rejected_{0},
      stat_group_max_{0};
  std::atomic<uint64_t> stat_commit_ns_{0}, stat_stage_ns_{0}, stat_record_ns_{0},
      stat_store_ns_{0}, stat_answer_ns_{0};
};

}  // namespace fundledger
