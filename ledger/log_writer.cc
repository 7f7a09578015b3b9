#include "ledger/log_writer.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <span>
#include <thread>

#include "crypto/checkpoint.h"
#include "ledger/rocksdb_bridge.h"

namespace fundledger {
namespace {

constexpr int kResumeAttemptsMax = 50;  // after a failed write, at most 1 s waiting for
constexpr int kResumeWaitMs = 20;       // RocksDB's own recovery before reporting again

// After a failed write RocksDB refuses writes until resumed (space may be back now). It may be
// resuming by itself in the background; waits a bounded time for that.
Status ResumeAfterFailedWrite(rocksdb::DB& db) {
  rocksdb::Status resumed = db.Resume();
  for (int i = 0; i < kResumeAttemptsMax && resumed.IsBusy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kResumeWaitMs));
    resumed = db.Resume();
  }
  if (resumed.ok()) return Status::Ok();
  if (resumed.IsNoSpace())
    return FromRocks(resumed, "the store cannot take writes yet, nothing was written");
  return IoError("the store stopped taking writes after an I/O error (" + resumed.ToString() +
                 "); nothing was written; fix the disk and restart the ledger");
}

// Nanoseconds since `start`, added to `total`.
void AddElapsed(std::atomic<uint64_t>& total, std::chrono::steady_clock::time_point start) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - start);
  total.fetch_add(static_cast<uint64_t>(ns.count()), std::memory_order_relaxed);
}

}  // namespace

// What one group adds to the log, in memory and in its batch; nothing of it is visible until
// Finish, after WriteDurably.
struct LogWriter::StagedGroup {
  rocksdb::WriteBatch batch;
  bool sync = true;
  const char* failure = "commit failed, nothing was written";  // prefixes a write error
  uint64_t committed_size = 0;                                 // before the group
  MerkleFrontier frontier;  // the committed tree with the staged leaves
  Hash last_leaf{};
  int64_t timestamp_ms = 0;  // of every entry of the group
  bool signs_checkpoint = false;
  bool replicated = false;  // committed elsewhere: not appended to the log of record
  bool vault_rows = false;  // holds rows the log of record does not (personal data)
  bool timed = false;       // submissions' group: its durable step counts in the stats
  // Idempotency records staged by this group (key, value): a key is looked up here first.
  std::vector<std::pair<std::string, std::string>> idempotency;
  // Each submission's answer, in order, unless the write fails.
  std::vector<Result<AppendResult>> results;
  // The group's entries, stored by StageEntryValues once the group is complete: those this
  // writer encoded, or a replicated group's, read in place (the submitter waits for the answer).
  std::vector<Bytes> encoded;
  std::span<const Bytes> replicated_entries;
  std::span<const Bytes> entries() const {
    return replicated ? replicated_entries : std::span<const Bytes>(encoded);
  }
  // For the log of record (cluster mode only): the group as it is appended there.
  Hash prev_leaf{};  // the committed log's last leaf hash
  std::vector<Hash> record_leaves;
  std::string note;  // the checkpoint it signs, or ""

  uint64_t appended() const { return frontier.size() - committed_size; }
};

namespace {

// SubmissionDigest over entries given as `Entry`s (NewEntry, or EntryView for a replicated run
// of stored entries read in place): the count, then each entry's actor, role, type and payload.
template <typename Entry>
Hash DigestEntries(std::span<const Entry> entries) {
  Sha256 h;
  uint8_t n[8];
  auto put_len = [&](uint64_t v) {
    PutBigEndian64(v, n);
    h.Update(ByteView(n, 8));
  };
  put_len(entries.size());
  for (const Entry& e : entries) {
    put_len(e.actor.size());
    h.Update(AsBytes(e.actor));
    h.Update(static_cast<uint8_t>(e.role));
    put_len(static_cast<uint64_t>(e.event_type));
    put_len(e.payload.size());
    h.Update(ByteView(e.payload));
  }
  return h.Finish();
}

}  // namespace

Hash SubmissionDigest(const Submission& submission) {
  return DigestEntries(std::span<const NewEntry>(submission.entries));
}

LogWriter::LogWriter(const LogColumns& columns, TreeStore& tree, NoteSigner signer, LogClock& clock,
                     std::atomic<uint64_t>& committed_size, Options options, LogTip tip)
    : columns_(columns),
      tree_(tree),
      signer_(std::move(signer)),
      clock_(clock),
      committed_size_(committed_size),
      options_(options),
      tip_(std::move(tip)),
      last_checkpoint_ms_(clock.NowMs()) {}

LogWriter::~LogWriter() {
  Status s = Close();
  (void)s;  // the log closes its writer first and reports; this only stops the thread
}

void LogWriter::Start() {
  assert(!thread_.joinable() && !answer_thread_.joinable());
  answer_thread_ = std::thread([this] { Answer(); });
  thread_ = std::thread([this] { Run(); });
}

Status LogWriter::Close() {
  {
    MutexLock lock(mu_);
    if (stopping_) return Status::Ok();
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    MutexLock lock(answer_mu_);
    answers_closing_ = true;  // the writer hands over nothing more: answer what is left, end
  }
  answer_cv_.notify_all();
  if (answer_thread_.joinable()) answer_thread_.join();
  if (tip_.checkpoint_size < tip_.frontier.size())
    return CheckpointAll(/*sync=*/true, "cannot write the final checkpoint");
  return Status::Ok();
}

std::future<Result<AppendResult>> LogWriter::Submit(Submission submission) {
  auto pending = std::make_unique<Pending>();
  std::future<Result<AppendResult>> future = pending->promise.get_future();
  auto fail = [&](Status s) {
    pending->promise.set_value(std::move(s));
    return std::move(future);
  };
  if (submission.entries.empty())
    return fail(InvalidArgument("a submission needs at least one entry"));
  if (submission.entries.size() > kSubmissionEntriesMax) {
    return fail(TooLarge("a submission holds at most " + std::to_string(kSubmissionEntriesMax) +
                         " entries, got " + std::to_string(submission.entries.size())));
  }
  if (submission.idempotency_key.size() > kIdempotencyKeyBytesMax) {
    return fail(InvalidArgument("idempotency key is longer than " +
                                std::to_string(kIdempotencyKeyBytesMax) + " bytes")
                    .WithField("idempotency_key"));
  }
  for (size_t i = 0; i < submission.entries.size(); ++i) {
    Status s = ValidateNewEntry(submission.entries[i]);
    if (!s.ok()) return fail(s.WithLine(i + 1));
  }
  pending->submission = std::move(submission);
  {
    MutexLock lock(mu_);
    if (stopping_) return fail(Overloaded("the ledger is shutting down"));
    if (queue_.size() >= kQueueSubmissionsMax) {
      return fail(Overloaded("the commit queue is full (" + std::to_string(kQueueSubmissionsMax) +
                             " submissions); retry shortly"));
    }
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return future;
}

std::future<Result<AppendResult>> LogWriter::SubmitReplicated(const ReplicatedGroup& group) {
  auto pending = std::make_unique<Pending>();
  std::future<Result<AppendResult>> future = pending->promise.get_future();
  if (group.entries.empty() || group.entries.size() > kGroupEntriesMax) {
    pending->promise.set_value(InvalidArgument("a replicated group holds 1 to " +
                                               std::to_string(kGroupEntriesMax) + " entries"));
    return future;
  }
  if (group.verified() && group.leaf_hashes.size() != group.entries.size()) {
    pending->promise.set_value(InvalidArgument(
        "a replicated group of " + std::to_string(group.entries.size()) + " entries came with " +
        std::to_string(group.leaf_hashes.size()) + " leaf hashes; nothing was stored"));
    return future;
  }
  pending->replicated = &group;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      pending->promise.set_value(Overloaded("the ledger is shutting down"));
      return future;
    }
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return future;
}

void LogWriter::SetCommitHook(CommitHook* hook) {
  MutexLock lock(mu_);
  hook_ = hook;
}

LogWriter::Stats LogWriter::stats() const {
  Stats s;
  s.commits = stat_commits_.load(std::memory_order_relaxed);
  s.submissions = stat_submissions_.load(std::memory_order_relaxed);
  s.entries = stat_entries_.load(std::memory_order_relaxed);
  s.rejected = stat_rejected_.load(std::memory_order_relaxed);
  s.group_entries_max = stat_group_max_.load(std::memory_order_relaxed);
  s.commit_ns = stat_commit_ns_.load(std::memory_order_relaxed);
  s.stage_ns = stat_stage_ns_.load(std::memory_order_relaxed);
  s.record_ns = stat_record_ns_.load(std::memory_order_relaxed);
  s.store_ns = stat_store_ns_.load(std::memory_order_relaxed);
  s.answer_ns = stat_answer_ns_.load(std::memory_order_relaxed);
  MutexLock lock(mu_);
  s.queue_depth = queue_.size();
  return s;
}

void LogWriter::Run() {
  QuietRocksDbCounters();
  std::vector<std::unique_ptr<Pending>> group;
  for (;;) {
    CommitHook* hook = nullptr;
    bool checkpoint_due = false;
    if (!TakeGroup(group, hook, checkpoint_due)) return;
    if (checkpoint_due) {
      // On failure the next commit resumes the store and the next interval tries again.
      Status s = CheckpointAll(options_.sync, "cannot write a checkpoint");
      (void)s;
      last_checkpoint_ms_ = NowMs();
      continue;
    }
    if (group.front()->replicated) {
      group.front()->promise.set_value(StoreReplicated(*group.front()->replicated));
    } else {
      CommitGroup(group, hook);
    }
    group.clear();
  }
}

int64_t LogWriter::CheckpointDeadlineMs() {
  const int64_t interval = options_.checkpoint_interval_ms;
  if (interval == 0 || tip_.checkpoint_size == tip_.frontier.size()) return LogClock::kNoDeadline;
  // Committed entries wait for a signed checkpoint: when the interval runs out with no commit to
  // carry one, the writer signs one alone, so proofs never wait for the next submission. (At
  // most an interval from now, whatever the clock did since the last one.)
  return std::min(last_checkpoint_ms_ + interval, NowMs() + interval);
}

bool LogWriter::TakeGroup(std::vector<std::unique_ptr<Pending>>& group, CommitHook*& hook,
                          bool& checkpoint_due) {
  const int64_t deadline_ms = CheckpointDeadlineMs();
  MutexLock lock(mu_);
  std::unique_lock<std::mutex> wait_lock(mu_.native(), std::adopt_lock);
  clock_.WaitUntil(cv_, wait_lock, deadline_ms,
                   [&]() FL_NO_THREAD_SAFETY_ANALYSIS { return stopping_ || !queue_.empty(); });
  wait_lock.release();  // `lock` unlocks
  if (queue_.empty()) {
    checkpoint_due = !stopping_;  // the deadline came first
    return !stopping_;            // stopping, and every submission has been answered
  }
  size_t entries = 0;
  // A replicated group goes alone.
  while (!queue_.empty() && (group.empty() || entries + queue_.front()->submission.entries.size() <=
                                                  kGroupEntriesMax)) {
    if (!group.empty() && queue_.front()->replicated) break;
    entries += queue_.front()->submission.entries.size();
    group.push_back(std::move(queue_.front()));
    queue_.pop_front();
    if (group.back()->replicated) break;
  }
  hook = hook_;
  return true;
}

void LogWriter::CommitGroup(std::vector<std::unique_ptr<Pending>>& group, CommitHook* hook) {
  const auto start = std::chrono::steady_clock::now();
  StagedGroup staged;
  BeginGroup(staged, options_.sync);
  for (const std::unique_ptr<Pending>& pending : group)
    StageSubmission(staged, pending->submission, hook);
  assert(staged.results.size() == group.size());
  Status written;
  if (staged.appended() > 0) {
    const bool sign = options_.checkpoint_interval_ms == 0 ||
                      staged.timestamp_ms - last_checkpoint_ms_ >= options_.checkpoint_interval_ms;
    written = StageTip(staged, sign);
    AddElapsed(stat_stage_ns_, start);
    staged.timed = true;
    if (written.ok()) written = WriteDurably(staged);
  }
  if (hook != nullptr) {
    if (written.ok()) {
      hook->Commit();
    } else {
      hook->Abort();
    }
  }
  Finish(staged, written);
  if (written.ok() && staged.appended() > 0) CountCommit(staged.appended());
  for (Result<AppendResult>& result : staged.results) {
    const bool replayed = result.ok() && result->replayed;
    if (written.ok() && result.ok() && !replayed) {
      stat_submissions_.fetch_add(1, std::memory_order_relaxed);
    } else if (!replayed) {
      stat_rejected_.fetch_add(1, std::memory_order_relaxed);
    }
    if (!written.ok() && result.ok() && !replayed) result = written;
  }
  AddElapsed(stat_commit_ns_, start);  // before the answers: a caller then sees its own group
  // The group is durable and published (Finish): its answers may go out from the answerer
  // while this thread takes the next group.
  HandOver(Answers{std::move(group), std::move(staged.results), staged.timed});
}

void LogWriter::HandOver(Answers answers) {
  {
    MutexLock lock(answer_mu_);
    std::unique_lock<std::mutex> wait_lock(answer_mu_.native(), std::adopt_lock);
    answer_cv_.wait(wait_lock, [&]() FL_NO_THREAD_SAFETY_ANALYSIS {
      return answers_.size() < kAnswerGroupsMax;
    });
    wait_lock.release();  // `lock` unlocks
    answers_.push_back(std::move(answers));
  }
  answer_cv_.notify_all();
}

void LogWriter::Answer() {
  for (;;) {
    Answers answers;
    {
      MutexLock lock(answer_mu_);
      std::unique_lock<std::mutex> wait_lock(answer_mu_.native(), std::adopt_lock);
      answer_cv_.wait(wait_lock, [&]() FL_NO_THREAD_SAFETY_ANALYSIS {
        return answers_closing_ || !answers_.empty();
      });
      wait_lock.release();           // `lock` unlocks
      if (answers_.empty()) return;  // closing, and every group has been answered
      answers = std::move(answers_.front());
      answers_.pop_front();
    }
    answer_cv_.notify_all();  // the writer may wait for room
    const auto start = std::chrono::steady_clock::now();
    assert(answers.results.size() == answers.group.size());
    for (size_t g = 0; g < answers.group.size(); ++g)
      answers.group[g]->promise.set_value(std::move(answers.results[g]));
    if (answers.timed) AddElapsed(stat_answer_ns_, start);
  }
}

void LogWriter::BeginGroup(StagedGroup& staged, bool sync) {
  staged.sync = sync;
  staged.committed_size = tip_.frontier.size();
  staged.frontier = tip_.frontier;
  staged.last_leaf = tip_.last_leaf_hash;
  staged.prev_leaf = tip_.last_leaf_hash;
  staged.timestamp_ms = std::max(NowMs(), tip_.last_timestamp_ms);
  tree_.BeginStaging(&staged.batch);
}

void LogWriter::StageSubmission(StagedGroup& staged, const Submission& submission,
                                CommitHook* hook) {
  const std::string& key = submission.idempotency_key;
  const Hash digest = key.empty() ? Hash{} : SubmissionDigest(submission);
  if (!key.empty()) {
    Result<std::optional<AppendResult>> seen = LookUpIdempotencyKey(staged, submission, digest);
    if (!seen.ok() || seen->has_value()) {
      staged.results.push_back(seen.ok() ? Result<AppendResult>(**seen) : seen.status());
      return;
    }
  }
  const uint64_t first = staged.frontier.size();
  if (hook != nullptr) {
    staged.batch.SetSavePoint();
    Status s = hook->Stage(submission, first, staged.timestamp_ms, staged.batch);
    if (!s.ok()) {
      rocksdb::Status rolled_back = staged.batch.RollbackToSavePoint();
      assert(rolled_back.ok());
      (void)rolled_back;
      staged.results.push_back(std::move(s));
      return;
    }
    staged.batch.PopSavePoint().PermitUncheckedError();
  }
  staged.vault_rows = staged.vault_rows || !submission.vault.empty();
  for (const VaultWrite& w : submission.vault) {
    if (w.value.empty()) {
      staged.batch.Delete(columns_.vault, w.key);
    } else {
      staged.batch.Put(columns_.vault, w.key, w.value);
    }
  }
  for (const NewEntry& e : submission.entries) {
    StageEntry(staged,
               EncodeEntry(e, key, staged.frontier.size(), staged.timestamp_ms, staged.last_leaf));
  }
  if (!key.empty()) {
    std::string value =
        EncodeIdempotencyRecord(IdempotencyRecord{first, submission.entries.size(), digest});
    staged.batch.Put(columns_.idempotency, key, value);
    staged.idempotency.emplace_back(key, std::move(value));
  }
  staged.results.push_back(AppendResult{first, submission.entries.size(), false});
}

Result<std::optional<AppendResult>> LogWriter::LookUpIdempotencyKey(const StagedGroup& staged,
                                                                    const Submission& submission,
                                                                    const Hash& digest) {
  const std::string& key = submission.idempotency_key;
  std::string value;
  auto in_group = std::find_if(staged.idempotency.begin(), staged.idempotency.end(),
                               [&](const auto& record) { return record.first == key; });
  if (in_group != staged.idempotency.end()) {
    value = in_group->second;
  } else {
    rocksdb::Status s = columns_.db->Get(rocksdb::ReadOptions(), columns_.idempotency, key, &value);
    if (s.IsNotFound()) return std::optional<AppendResult>();
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read the idempotency index"));
  }
  FL_ASSIGN_OR_RETURN(IdempotencyRecord record, DecodeIdempotencyRecord(value));
  if (record.digest != digest) {
    return Conflict("idempotency key '" + key + "' was already used for a different request")
        .WithField("idempotency_key");
  }
  return std::optional<AppendResult>(AppendResult{record.first_index, record.count, true});
}

void LogWriter::StageEntry(StagedGroup& staged, Bytes bytes) {
  assert(bytes.size() <= kEntryBytesMax && !staged.replicated);
  const Hash leaf = HashLeaf(bytes);
  staged.encoded.push_back(std::move(bytes));
  StageLeaf(staged, leaf);
}

void LogWriter::StageLeaf(StagedGroup& staged, const Hash& leaf) {
  staged.frontier.Append(leaf, [&](uint8_t level, uint64_t index, const Hash& h) {
    tree_.StageNode(level, index, h);
  });
  staged.last_leaf = leaf;
  if (options_.log_of_record != nullptr && !staged.replicated) staged.record_leaves.push_back(leaf);
}

Status LogWriter::StageEntryValues(StagedGroup& staged) {
  const std::span<const Bytes> entries = staged.entries();
  assert(entries.size() == staged.appended());
  const uint64_t first = staged.committed_size, end = staged.frontier.size();
  uint64_t index = first;
  // Bundles the group completes; the entries of one that earlier groups stored are singles.
  for (uint64_t start = BundleStart(index); start + kBundleEntries <= end;
       start += kBundleEntries) {
    std::vector<std::string> earlier;
    if (start < first) {
      FL_ASSIGN_OR_RETURN(earlier, ReadSingles(start, first));
    }
    std::vector<ByteView> bundle;
    bundle.reserve(kBundleEntries);
    for (uint64_t i = start; i < first; ++i) {
      bundle.push_back(AsBytes(earlier[i - start]));
      staged.batch.Delete(columns_.entries, EntryKey(i));
    }
    for (; index < start + kBundleEntries; ++index) bundle.push_back(entries[index - first]);
    staged.batch.Put(columns_.entries, BundleKey(start), EncodeEntryBundle(bundle));
  }
  for (; index < end; ++index) {
    staged.batch.Put(columns_.entries, EntryKey(index), ToSlice(entries[index - first]));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> LogWriter::ReadSingles(uint64_t begin, uint64_t end) {
  std::vector<std::string> keys;
  for (uint64_t i = begin; i < end; ++i) keys.push_back(EntryKey(i));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<rocksdb::Status> read = columns_.db->MultiGet(
      rocksdb::ReadOptions(),
      std::vector<rocksdb::ColumnFamilyHandle*>(keys.size(), columns_.entries), slices, &values);
  for (uint64_t i = begin; i < end; ++i) {
    const rocksdb::Status& s = read[i - begin];
    if (s.IsNotFound()) {
      return Corruption("entry " + std::to_string(i) +
                        " is missing from the store; its bundle cannot be written");
    }
    FL_RETURN_IF_ERROR(FromRocks(s, "cannot read entry " + std::to_string(i) + " for its bundle"));
  }
  return values;
}

Status LogWriter::StageTip(StagedGroup& staged, bool sign) {
  const uint64_t size = staged.frontier.size();
  if (staged.appended() > 0) {
    FL_RETURN_IF_ERROR(StageEntryValues(staged));
    tree_.StageLeafRows();  // of the entries whose tile is not complete
    staged.batch.Put(columns_.meta, kMetaSize, U64Value(size));
  }
  if (!sign) return Status::Ok();
  const std::string note = SignNote(
      FormatCheckpoint(Checkpoint{signer_.name, size, staged.frontier.Root(), {}}), signer_);
  staged.signs_checkpoint = true;
  if (options_.log_of_record != nullptr) staged.note = note;
  return FromRocks(staged.batch.Put(columns_.checkpoints, CheckpointKey(size), note),
                   "cannot stage a checkpoint");
}

Status LogWriter::WriteDurably(StagedGroup& staged) {
  if (behind_record_) {
    return IoError(std::string(staged.failure) +
                   ": the local store is behind the log of record after a failed write; "
                   "restart the node to catch up");
  }
  if (write_failed_) FL_RETURN_IF_ERROR(ResumeAfterFailedWrite(*columns_.db));
  const bool to_record = options_.log_of_record != nullptr && !staged.replicated;
  if (to_record) {
    const auto start = std::chrono::steady_clock::now();
    Status appended = AppendToRecord(staged);
    if (staged.timed) AddElapsed(stat_record_ns_, start);
    FL_RETURN_IF_ERROR(appended);
  }
  rocksdb::WriteOptions options;
  options.sync = staged.sync && !RecordHolds(staged);
  const auto start = std::chrono::steady_clock::now();
  Status written = FromRocks(columns_.db->Write(options, &staged.batch), staged.failure);
  if (staged.timed) AddElapsed(stat_store_ns_, start);
  write_failed_ = !written.ok();
  behind_record_ = !written.ok() && to_record;
  return written;
}

bool LogWriter::RecordHolds(const StagedGroup& staged) const {
  // A log of record holds the group on two machines (the writer's, acknowledged before this
  // write; a follower's, read from it), and a node whose local tail was lost with its machine
  // catches up from it before it serves or writes: the local write needs no fsync of its own.
  // The genesis group stays synced: a store without it cannot tell what it replicates. Vault
  // rows (personal data) are never in the log of record.
  return (options_.log_of_record != nullptr || staged.replicated) && staged.committed_size > 0 &&
         !staged.vault_rows;
}

Status LogWriter::AppendToRecord(const StagedGroup& staged) {
  assert(staged.encoded.size() == staged.appended());
  // Its errors say themselves whether anything was appended there.
  return options_.log_of_record->Append(RecordGroup{
      staged.committed_size, staged.prev_leaf, staged.encoded, staged.record_leaves, staged.note});
}

void LogWriter::Finish(StagedGroup& staged, const Status& written) {
  if (!written.ok()) {
    tree_.Discard();
    return;
  }
  tree_.Publish();
  if (staged.appended() > 0) {
    tip_.frontier = staged.frontier;
    tip_.last_leaf_hash = staged.last_leaf;
    tip_.last_timestamp_ms = staged.timestamp_ms;
  }
  if (staged.signs_checkpoint) {
    tip_.checkpoint_size = staged.frontier.size();
    last_checkpoint_ms_ = staged.timestamp_ms;
  }
  committed_size_.store(tip_.frontier.size(), std::memory_order_release);
}

Status LogWriter::CheckpointAll(bool sync, const char* failure) {
  assert(tip_.checkpoint_size < tip_.frontier.size());
  StagedGroup staged;
  BeginGroup(staged, sync);
  staged.failure = failure;
  Status s = StageTip(staged, /*sign=*/true);
  if (s.ok()) s = WriteDurably(staged);
  Finish(staged, s);
  return s;
}

Status LogWriter::WriteGenesis(const NewEntry& genesis, int64_t timestamp_ms,
                               const std::vector<std::pair<std::string, std::string>>& meta) {
  assert(!thread_.joinable() && tip_.frontier.size() == 0);
  StagedGroup staged;
  BeginGroup(staged, /*sync=*/true);
  staged.failure = "cannot write the genesis entry";
  staged.timestamp_ms = timestamp_ms;
  for (const auto& [key, value] : meta) staged.batch.Put(columns_.meta, key, value);
  StageEntry(staged, EncodeEntry(genesis, "", 0, timestamp_ms, Hash{}));
  Status s = StageTip(staged, /*sign=*/true);
  if (s.ok()) s = WriteDurably(staged);
  Finish(staged, s);
  return s;
}

Status LogWriter::WriteReplicatedGenesis(
    const ReplicatedGroup& group, const std::vector<std::pair<std::string, std::string>>& meta) {
  assert(!thread_.joinable() && tip_.frontier.size() == 0);
  return StoreReplicated(group, meta).status();
}

Result<AppendResult> LogWriter::StoreReplicated(
    const ReplicatedGroup& group, const std::vector<std::pair<std::string, std::string>>& meta) {
  StagedGroup staged;
  BeginGroup(staged, options_.sync);
  staged.replicated = true;
  staged.timestamp_ms = tip_.last_timestamp_ms;  // the entries' own, below
  staged.failure = "cannot store the replicated entries, nothing was written";
  for (const auto& [key, value] : meta) staged.batch.Put(columns_.meta, key, value);
  Status s = StageReplicatedEntries(staged, group);
  if (s.ok()) s = StageTip(staged, /*sign=*/false);
  if (s.ok() && !group.checkpoint_note.empty()) {
    staged.signs_checkpoint = true;
    s = FromRocks(staged.batch.Put(columns_.checkpoints, CheckpointKey(staged.frontier.size()),
                                   group.checkpoint_note),
                  "cannot stage a checkpoint");
  }
  if (s.ok()) s = WriteDurably(staged);
  Finish(staged, s);
  if (!s.ok()) return s;
  CountCommit(staged.appended());
  return AppendResult{staged.committed_size, staged.appended(), false};
}

Status LogWriter::StageReplicatedEntries(StagedGroup& staged, const ReplicatedGroup& group) {
  assert(!group.verified() || group.leaf_hashes.size() == group.entries.size());
  staged.replicated_entries = group.entries;
  std::string run_key;         // the idempotency key of the run of entries being read
  std::vector<EntryView> run;  // its entries, viewed in place, for the digest
  uint64_t run_first = 0;
  auto end_run = [&] {
    if (run_key.empty()) return;
    IdempotencyRecord record{run_first, run.size(), DigestEntries(std::span<const EntryView>(run))};
    staged.batch.Put(columns_.idempotency, run_key, EncodeIdempotencyRecord(record));
    run_key.clear();
    run.clear();
  };
  for (size_t k = 0; k < group.entries.size(); ++k) {
    const Bytes& bytes = group.entries[k];
    assert(bytes.size() <= kEntryBytesMax);
    // Entries VerifyChain handed back hashes for passed its FlatBuffers verifier; for others
    // the verifier runs here. Either way the chain is checked again: this guards the store
    // against a caller that did not verify it.
    EntryView e;
    if (group.verified()) {
      e = DecodeVerifiedEntry(bytes);
    } else {
      FL_ASSIGN_OR_RETURN(e, DecodeEntry(bytes));
    }
    const uint64_t index = staged.frontier.size();
    if (e.index != index || e.prev_leaf_hash != staged.last_leaf) {
      return Corruption("replicated entry " + std::to_string(e.index) +
                        " does not continue the log at index " + std::to_string(index));
    }
    if (e.idempotency_key != run_key) {
      end_run();
      run_key = std::string(e.idempotency_key);
      run_first = index;
    }
    if (!run_key.empty()) run.push_back(e);
    staged.timestamp_ms = std::max(staged.timestamp_ms, e.timestamp_ms);
    StageLeaf(staged, group.verified() ? group.leaf_hashes[k] : HashLeaf(bytes));
  }
  end_run();
  return Status::Ok();
}

void LogWriter::CountCommit(uint64_t appended) {
  stat_commits_.fetch_add(1, std::memory_order_relaxed);
  stat_entries_.fetch_add(appended, std::memory_order_relaxed);
  if (appended > stat_group_max_.load(std::memory_order_relaxed))
    stat_group_max_.store(appended, std::memory_order_relaxed);
}

}  // namespace fundledger
