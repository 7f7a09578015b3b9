#include "cluster/log_follower.h"

#include <cassert>
#include <chrono>
#include <filesystem>

#include "crypto/checkpoint.h"
#include "ledger/log_format.h"
#include "replay/chain_verifier.h"

namespace fundledger {
namespace {

// The local log up to `begin` followed by entries read from the log of record and the
// checkpoint that ends them: what VerifyChain walks from `begin` on.
class PendingSource final : public LogSource {
 public:
  PendingSource(const Log& local, uint64_t begin, const std::vector<Bytes>& entries,
                const StoredCheckpoint& checkpoint)
      : local_(local), begin_(begin), entries_(entries), checkpoint_(checkpoint) {}

  uint64_t size() const override { return begin_ + entries_.size(); }
  Result<Hash> ReadNode(uint8_t level, uint64_t index) const override {
    return local_.ReadNode(level, index);  // the tree before begin_ (check_stored_tree off)
  }
  Status ScanEntries(uint64_t begin, uint64_t end,
                     const std::function<Status(uint64_t, ByteView)>& fn) const override {
    for (uint64_t i = begin; i < end; ++i) {
      if (i < begin_) {
        FL_RETURN_IF_ERROR(local_.ScanEntries(i, i + 1, fn));
      } else {
        FL_RETURN_IF_ERROR(fn(i, entries_[i - begin_]));
      }
    }
    return Status::Ok();
  }
  // Only the new checkpoint: those of the local log were checked when they were stored.
  Status ScanCheckpoints(
      const std::function<Status(uint64_t, std::string_view)>& fn) const override {
    return fn(checkpoint_.size, checkpoint_.note);
  }

 private:
  const Log& local_;
  const uint64_t begin_;
  const std::vector<Bytes>& entries_;
  const StoredCheckpoint& checkpoint_;
};

Status NotApplied(uint64_t index, const std::string& why) {
  return Corruption("entry " + std::to_string(index) +
                    " of the log of record fails verification (" + why +
                    "); this node stops applying the log");
}

// `entries` (from `local` on) checked on replay's code path against `checkpoint`, which ends them;
// the report holds each entry's leaf hash as checked.
VerifyReport Verify(const Ledger& ledger, uint64_t local, const std::vector<Bytes>& entries,
                    const StoredCheckpoint& checkpoint) {
  VerifyOptions verify;
  verify.trusted_key = ledger.log().verifier();
  verify.check_stored_tree = false;  // the tree beyond `local` is built from these entries
  verify.begin = local;
  verify.chunk_log2 = 63;  // in order: the first bad entry is named
  // On this thread, on the very bytes read (no reader thread copying them ahead): a follower's
  // CPU is its machine's writer's.
  verify.threads = 1;
  verify.keep_leaf_hashes = true;  // ApplyReplicated stores them: each entry is hashed once
  return VerifyChain(PendingSource(ledger.log(), local, entries, checkpoint), verify);
}

// The first entry (from `local` on) whose row's stored leaf hash is not the one the
// verification computed of its bytes, among those it computed.
std::optional<uint64_t> FirstStoredLeafMismatch(const std::vector<Hash>& computed,
                                                const std::vector<Hash>& stored, uint64_t local) {
  assert(computed.size() <= stored.size());
  for (size_t k = 0; k < computed.size(); ++k) {
    if (computed[k] != stored[k]) return local + k;
  }
  return std::nullopt;
}

// A store that exists (a node restarted, or one restored from another node's backup) joins
// only if its latest checkpoint is the log of record's of that size: the same root. The steps
// after it verify every entry from that tree on, so the node stays consistent with the record.
Status CheckJoin(PgLogStore& store, const Log& local) {
  FL_ASSIGN_OR_RETURN(std::string note, local.LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint mine, OpenCheckpoint(note, local.verifier()));
  FL_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> record, store.CheckpointAfter(mine.size - 1));
  const std::string at = "the local store's checkpoint of size " + std::to_string(mine.size);
  if (!record || record->size != mine.size) {
    return Corruption(at +
                      " is not in the log of record (entries never acknowledged, or another "
                      "log's store); this node does not join");
  }
  Result<Checkpoint> theirs = OpenCheckpoint(record->note, local.verifier());
  if (!theirs.ok()) {
    return Corruption("the log of record's checkpoint of size " + std::to_string(mine.size) +
                      " does not verify with this node's key (" + theirs.status().message() +
                      "); this node does not join");
  }
  if (theirs->root != mine.root) {
    return Corruption(at +
                      " has another root than the log of record's (a forked store); this "
                      "node does not join");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Ledger>> LogFollower::OpenReplica(PgLogStore& store,
                                                         const std::string& data_dir,
                                                         LedgerOptions options) {
  if (std::filesystem::exists(StorePath(data_dir))) {
    FL_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, Ledger::Open(data_dir, options));
    Status joined = CheckJoin(store, ledger->log());
    if (!joined.ok()) {
      (void)ledger->Close();  // the check's error is the one to report
      return joined;
    }
    return ledger;
  }
  FL_ASSIGN_OR_RETURN(std::vector<StoredEntry> first, store.ReadEntries(0, 1));
  FL_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> checkpoint, store.CheckpointAfter(0));
  if (first.empty() || !checkpoint || checkpoint->size != 1) {
    return NotFound("the log of record has no genesis entry with its checkpoint yet");
  }
  return Ledger::CreateReplica(data_dir, first[0].bytes, checkpoint->note, options);
}

Result<LogFollower::ReadGroup> LogFollower::ReadRange(uint64_t begin, uint64_t end) {
  ReadGroup group;
  group.entries.reserve(end - begin);
  group.stored_leaf_hashes.reserve(end - begin);
  while (begin + group.entries.size() < end) {
    const uint64_t from = begin + group.entries.size();
    const size_t count = static_cast<size_t>(std::min<uint64_t>(end - from, kPgReadEntriesMax));
    FL_ASSIGN_OR_RETURN(std::vector<StoredEntry> read,
                        store_.ReadEntries(from, count, LeafHashCheck::kCallerCompares));
    if (read.empty()) return NotApplied(from, "it is missing below a checkpoint that covers it");
    for (StoredEntry& e : read) {
      group.entries.push_back(std::move(e.bytes));
      group.stored_leaf_hashes.push_back(e.leaf_hash);
    }
  }
  return group;
}

Status LogFollower::VerifyAndApply(Ledger& ledger, ReadGroup read,
                                   const StoredCheckpoint& checkpoint) {
  const uint64_t local = ledger.log().size();
  VerifyReport report = Verify(ledger, local, read.entries, checkpoint);
  uint64_t bad_index = report.valid ? checkpoint.size : report.bad_index;
  std::string reason = report.reason;
  // A row altered in one column only: its stored leaf hash is not its bytes'.
  if (std::optional<uint64_t> altered =
          FirstStoredLeafMismatch(report.leaf_hashes, read.stored_leaf_hashes, local);
      altered && *altered < bad_index) {
    bad_index = *altered;
    reason = "its stored leaf hash is not the hash of its bytes";
  }
  if (bad_index == checkpoint.size) {
    assert(report.leaf_hashes.size() == read.entries.size());  // one hash handed over per entry
    return ledger
        .ApplyReplicated(ReplicatedGroup{std::move(read.entries), checkpoint.note,
                                         std::move(report.leaf_hashes)})
        .status();
  }
  // The groups before the bad row are applied (the node serves them); the next Step names it.
  FL_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> before,
                      store_.FurthestCheckpointWithin(local, bad_index));
  if (before && before->size < checkpoint.size) {
    read.entries.resize(before->size - local);
    VerifyReport prefix = Verify(ledger, local, read.entries, *before);
    if (prefix.valid) {
      FL_RETURN_IF_ERROR(ledger
                             .ApplyReplicated(ReplicatedGroup{std::move(read.entries), before->note,
                                                              std::move(prefix.leaf_hashes)})
                             .status());
    }
  }
  return NotApplied(bad_index, reason);
}

Result<LogHead> LogFollower::Step(Ledger& ledger, int64_t wait_ms) {
  const uint64_t local = ledger.log().size();
  FL_ASSIGN_OR_RETURN(LogHead head, store_.WaitForEntries(local, wait_ms));
  if (head_observer_) head_observer_(head);
  if (head.next_index < local) {
    return Corruption("the local store holds " + std::to_string(local) +
                      " entries, the log of record " + std::to_string(head.next_index) +
                      ": entries never acknowledged; this node stops applying the log");
  }
  if (head.next_index == local) return head;
  FL_ASSIGN_OR_RETURN(std::optional<StoredCheckpoint> checkpoint,
                      store_.FurthestCheckpointWithin(local, local + kFollowerStepEntriesMax));
  if (!checkpoint) {
    FL_ASSIGN_OR_RETURN(checkpoint, store_.CheckpointAfter(local));
  }
  if (!checkpoint) return head;  // entries not signed yet
  if (checkpoint->size - local > kFollowerStepEntriesMax) {
    return TooLarge("the log of record's next checkpoint is " +
                    std::to_string(checkpoint->size - local) + " entries ahead, more than " +
                    std::to_string(kFollowerStepEntriesMax));
  }
  Result<ReadGroup> read = ReadRange(local, checkpoint->size);
  if (!read.ok()) {
    Status s = read.status();
    if (s.code() != StatusCode::kCorruption) return s;
    return Corruption(s.message() + "; this node stops applying the log");
  }
  FL_RETURN_IF_ERROR(VerifyAndApply(ledger, std::move(read).value(), *checkpoint));
  return head;
}

Status LogFollower::CatchUp(Ledger& ledger, uint64_t size, int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (ledger.log().size() < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      return Overloaded("caught up to " + std::to_string(ledger.log().size()) + " of " +
                        std::to_string(size) + " entries within " + std::to_string(timeout_ms) +
                        " ms");
    }
    FL_RETURN_IF_ERROR(Step(ledger, std::min<int64_t>(left, kFollowerWaitMs)).status());
  }
  return Status::Ok();
}

}  // namespace fundledger
