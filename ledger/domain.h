// Domain: the ledger's state and how entries reach it, by staging or by replay.
//
// As the log's CommitHook, Domain::Stage runs on the writer thread for each submission: it
// decodes the entries, checks every rule against current state (domain_rules.h: a stable rule
// code, the field and the line), and only if all pass applies them to memory, recording undo
// steps (domain_apply.h), and hands the resulting postings and payment effects to the
// observers (projections), whose rows join the same WriteBatch in key order (batch_sink.h). A
// rejected submission changes nothing; a failed commit is rolled back by Abort.
//
// Replay applies committed entries without checking rules: entries in the log are facts, even
// where an imported log broke a rule (the audit checks report those). An entry that cannot be
// applied at all (a sum that overflows 64 bits, a correction of a line never prepared), or that
// an observer cannot apply (EntryObserver::failure), stops the replay with a Corruption naming
// it; on the rule-checked path the same refuses the submission (`amount_overflow`).
//
// Invariants, checked: each applied entry's postings sum to zero; after each staged entry, the
// roll lines it moved keep the payment invariant (domain_apply.h); after a submission is
// staged, no fund account it moved is below zero or holds negative reservations (unless an
// imported history left it so). Any broken stops the program before anything is written.
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
// Threads and what they own:
//   - the state, the undo log and what a submission moved: whoever holds the gate exclusively
//     (the writer thread in a commit group: Stage, Commit, Abort; the replaying thread from
//     BeginReplay to EndReplay); readers hold it shared (Read, TryRead, SaveState).
//   - the pool's helpers (WorkerPool, `helper_threads` of them, default 2) run the domain's
//     parallel halves while the gate's holder waits for them: half of a large roll's line
//     checks (reading the state only), the observers beside a large approval's state changes
//     (touching only the observers and the sink), and the observers during a replay (fed
//     through a bounded queue; the state is the replaying thread's).
//
//   Domain domain({&projections}, projections_cf);
//   FL_RETURN_IF_ERROR(domain.Replay(log));           // on open
//   log.SetCommitHook(&domain);                        // then Stage/Commit/Abort per group
//   domain.Read([](const DomainState& s) { ... });     // from any thread
#pragma once

#include "crypto/mutex.h"
#include "ledger/domain_rules.h"
#include "ledger/domain_state.h"
#include "ledger/entry_codec.h"
#include "ledger/events.h"
#include "ledger/log.h"
#include "ledger/worker_pool.h"

namespace fundledger {

// Helper threads of a domain's pool, unless its owner says otherwise (LedgerOptions).
inline constexpr size_t kDomainHelperThreadsDefault = 2;

class Domain final : public CommitHook {
 public:
  explicit Domain(std::vector<EntryObserver*> observers,
                  rocksdb::ColumnFamilyHandle* projections = nullptr,
                  size_t helper_threads = kDomainHelperThreadsDefault);
  ~Domain() override;
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;

  // The log's origin, which signed commands name (actor_keys.h); set before the first Stage.
  void SetOrigin(std::string origin) { origin_ = std::move(origin); }

  // Applies one committed entry (replay on open, rebuild, audit): no rule checks.
  Status ApplyCommitted(uint64_t index, ByteView entry_bytes, ApplyContext& context);
  // ApplyCommitted for an entry whose bytes passed DecodeEntry and VerifyPayload and have not
  // changed since (a rebuild applies what its verification checked, VerifyOptions::on_entry):
  // the FlatBuffers verifier does not run over them a second time.
  Status ApplyVerified(uint64_t index, ByteView entry_bytes, ApplyContext& context);
  // Replays the entries of `source` from `begin` on; used on open (after a snapshot, if any).
  Status Replay(const LogSource& source, uint64_t begin = 0);
  // Bracket a run of ApplyCommitted calls made outside Replay (rebuild): observers may defer
  // work to the end, and they are fed on a helper thread (the domain applies entry i+1 while
  // the projections take entry i); EndReplay waits for them to catch up. Every BeginReplay
  // needs its EndReplay before the next Stage or read of the observers. In between, the caller
  // is the domain's only user (an open, a rebuild): ApplyCommitted takes no lock per entry.
  void BeginReplay();
  // The first failure of an observer during the replay (EntryObserver::failure), or ok.
  Status EndReplay(ApplyContext& context);

  // The whole state as bytes, and back (snapshots; domain_state_codec.h). Load replaces it.
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
  Status Apply(const DomainEvent& event, const EntryMeta& meta, ApplyContext& context)
      FL_REQUIRES(gate_);
  // ApplyCommitted's and ApplyVerified's second half: the entry decoded, its payload verified
  // (`payload_verified`) or not yet.
  Status ApplyDecoded(uint64_t index, const EntryView& e, bool payload_verified,
                      ApplyContext& context);
  // Apply for ApplyCommitted during a replay, whose gate BeginReplay took.
  Status ApplyReplayed(const DomainEvent& event, const EntryMeta& meta, ApplyContext& context);
  Status ApplyApprovalBeside(const fb::DisbursementBatchApprovedT& approval, const EntryMeta& meta,
                             ApplyContext& context, const AppliedEntry& applied) FL_REQUIRES(gate_);
  // The entry is applied: next_index moves past it (undone with the rest).
  void Advance(const EntryMeta& meta, ApplyContext& context) FL_REQUIRES(gate_);
  // What the submission being staged moved in fund accounts, and the check once it is staged.
  struct FundMoved {
    Amount posted, pending;
    bool unknown = false;  // a sum overflowed: the balance before is not known
  };
  void NoteFundsMoved(const AppliedEntry& applied) FL_REQUIRES(gate_);
  void CheckNoFundBelowZero(uint64_t first_index) const FL_REQUIRES(gate_);
  // Stage's second half: rules and application of decoded, field-checked events.
  Status StageEvents(const Submission& submission, const std::vector<DomainEvent>& events,
                     uint64_t first_index, int64_t timestamp_ms, rocksdb::WriteBatch& batch);

  // The gate is held exclusively for a whole commit group or replay (see the header comment),
  // so it is taken in one call and released in another: OpenGroup / CloseGroup, BeginReplay /
  // EndReplay. Between them, the holder says so to the analysis with AssertGateHeld.
  void OpenGroup();
  void CloseGroup();
  void AssertGateHeld() const FL_ASSERT_CAPABILITY(gate_);

  // The signature rules of a submission, and each key event's own (actor_keys.h).
  Status CheckSigned(const std::vector<SignedEntryView>& views) const FL_REQUIRES(gate_);

  std::string origin_;
  std::vector<EntryObserver*> observers_;
  rocksdb::ColumnFamilyHandle* projections_cf_;
  WorkerPool pool_;
  struct ObserverPipe;                  // feeds the observers on a helper during a replay
  std::unique_ptr<ObserverPipe> pipe_;  // the replaying thread's

  mutable SharedMutex gate_;
  bool group_open_ = false;  // the writer's: it holds gate_ for the current commit group
  bool replaying_ = false;   // the replaying thread's: BeginReplay..EndReplay hold gate_
  DomainState state_ FL_GUARDED_BY(gate_);
  UndoLog undo_ FL_GUARDED_BY(gate_);
  StringMap<FundMoved> staged_funds_ FL_GUARDED_BY(gate_);  // the submission being staged
};

}  // namespace fundledger
