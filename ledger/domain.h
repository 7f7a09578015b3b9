// Domain: the rules of the ledger and the state they are checked against.
//
// As the log's CommitHook, Domain::Stage runs on the writer thread for each submission: it
// decodes the entries, checks every rule against current state (reporting a stable rule code,
// the field and the line), and only if all pass applies them to memory, recording undo steps,
// and hands the resulting postings and payment effects to the observers (projections), whose
// rows join the same WriteBatch. A rejected submission changes nothing; a failed commit is
// rolled back by Abort.
//
// Replay applies committed entries without checking rules: entries in the log are facts,
// even where an imported log broke a rule (the audit checks report those).
//
// Reads see only durable state. The domain's lock is the read gate of everything derived from
// the log (the domain state and its observers, the projections): the writer holds it
// exclusively from the first Stage of a commit group until Commit or Abort, that is until the
// group's fsync has returned (or failed and been rolled back), and a replay holds it from
// BeginReplay to EndReplay. Read() holds it shared, so a reader never sees an effect whose
// commit has not returned from fsync, nor one that a failed commit rolls back. Observers'
// queries take the `const DomainState&` handed to Read's callback: it proves the gate is held,
// and their answer reflects the same entries (`DomainState::next_index`, the log size).
//
// Thread safety: Stage/Commit/Abort on the writer thread; Read() from any thread. A large
// approval is planned first (its postings and payments, read from the batch), then its state
// changes run on the writer thread while the observers take the plan on a second thread.
#pragma once

#include "crypto/mutex.h"
#include "ledger/domain_rules.h"
#include "ledger/domain_state.h"
#include "ledger/entry_codec.h"
#include "ledger/events.h"
#include "ledger/log.h"

namespace fundledger {

class Domain final : public CommitHook {
 public:
  explicit Domain(std::vector<EntryObserver*> observers,
                  rocksdb::ColumnFamilyHandle* projections = nullptr);
  ~Domain() override;
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;

  // Applies one committed entry (replay on open, rebuild, audit): no rule checks.
  Status ApplyCommitted(uint64_t index, ByteView entry_bytes, ApplyContext& context);
  // Replays the entries of `source` from `begin` on; used on open (after a snapshot, if any).
  Status Replay(const LogSource& source, uint64_t begin = 0);
  // Bracket a run of ApplyCommitted calls made outside Replay (rebuild): observers may defer
  // work to the end, and they are fed on a thread of their own (the domain applies entry i+1
  // while the projections take entry i); EndReplay waits for them to catch up. Every
  // BeginReplay needs its EndReplay before the next Stage or read of the observers. In
  // between, the caller is the domain's only user (an open, a rebuild): ApplyCommitted takes
  // no lock per entry.
  void BeginReplay();
  // The first failure of an observer during the replay (EntryObserver::failure), or ok.
  Status EndReplay(ApplyContext& context);

  // The whole state as bytes, and back (snapshots). Load replaces the state.
  std::string SaveState() const;
  Status LoadState(std::string_view bytes);

  Status Stage(const Submission& submission, uint64_t first_index, int64_t timestamp_ms,
               rocksdb::WriteBatch& batch) override;
  void Commit() override;
  void Abort() override;

  // Runs fn(const DomainState&) holding the read gate shared: the state, and any observer
  // queried with it, reflect exactly the first `state.next_index` entries, all durable.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    ReaderLock lock(gate_);
    return fn(state_);
  }
  // As Read, but only if no commit group or replay holds the gate; nullopt otherwise.
  template <typename Fn>
  auto TryRead(Fn&& fn) const -> std::optional<decltype(fn(std::declval<const DomainState&>()))> {
    if (!gate_.TryLockShared()) return std::nullopt;
    auto result = fn(state_);
    gate_.UnlockShared();
    return result;
  }

 private:
  // Applies one event to the state and feeds it to the observers. Errors: the entry's own (a
  // rule violation: a sum that would overflow, a line that does not exist) or an observer's
  // failure (a Corruption naming the entry).
  Status Apply(const DomainEvent& event, const EntryMeta& meta, ApplyContext& context);
  Status ApplyApprovalBeside(const fb::DisbursementBatchApprovedT& approval, const EntryMeta& meta,
                             ApplyContext& context, const AppliedEntry& applied);
  // The entry is applied: next_index moves past it (undone with the rest).
  void Advance(const EntryMeta& meta, ApplyContext& context);
  // What the submission being staged moved in fund accounts, and the check once it is staged.
  struct FundMoved {
    Amount posted, pending;
    bool unknown = false;  // a sum overflowed: the balance before is not known
  };
  void NoteFundsMoved(const AppliedEntry& applied);
  void CheckNoFundBelowZero(uint64_t first_index) const;
  // Stage's second half: rules and application of decoded, field-checked events.
  Status StageEvents(const Submission& submission, const std::vector<DomainEvent>& events,
                     uint64_t first_index, int64_t timestamp_ms, rocksdb::WriteBatch& batch);

  struct ObserverPipe;  // feeds observers on their own thread during a replay
  std::unique_ptr<ObserverPipe> pipe_;
  std::vector<EntryObserver*> observers_;
  rocksdb::ColumnFamilyHandle* projections_cf_;
  // Held exclusively by the writer for a whole commit group (see the header comment), so it
  // is taken in one call and released in another: OpenGroup / CloseGroup.
  void OpenGroup();
  void CloseGroup();

  mutable SharedMutex gate_;
  bool group_open_ = false;  // the writer holds gate_ for the current commit group
  bool replaying_ = false;   // between BeginReplay and EndReplay, which hold gate_
  DomainState state_;
  UndoLog undo_;
  StringMap<FundMoved> staged_funds_;  // writer thread, during Stage
};

}  // namespace fundledger
