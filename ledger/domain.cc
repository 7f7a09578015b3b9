#include "ledger/domain.h"

#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "ledger/ahead_queue.h"
#include "ledger/batch_sink.h"
#include "ledger/domain_apply.h"
#include "ledger/domain_rules.h"
#include "ledger/domain_state_codec.h"
#include "ledger/rule_code.h"

namespace fundledger {

namespace {

// The first failure an observer reports (EntryObserver::failure), or ok.
Status FirstFailure(const std::vector<EntryObserver*>& observers) {
  for (const EntryObserver* o : observers) {
    Status failed = o->failure();
    if (!failed.ok()) return failed;
  }
  return Status::Ok();
}

}  // namespace

// Applied entries handed from the replaying thread to a helper that feeds the observers, in
// order, a batch at a time; bounded, so a slow observer holds the replay back. An observer's
// failure stops the feeding, and the next Push (or Finish) returns it.
struct Domain::ObserverPipe {
  static constexpr size_t kBatchEntries = 1024;
  static constexpr size_t kBatchesAhead = 8;
  using Batch = std::vector<std::pair<AppliedEntry, ApplyContext>>;

  ObserverPipe(const std::vector<EntryObserver*>& observers, WorkerPool& pool) : pool(pool) {
    assert(pool.threads() > 0);  // on the replaying thread the queue would never be drained
    pool.Submit(feeding, [this, &observers] { Feed(observers); });
  }
  Status Push(AppliedEntry entry, const ApplyContext& context) {
    filling.emplace_back(std::move(entry), context);
    return filling.size() >= kBatchEntries ? Send() : Status::Ok();
  }
  Status Send() {
    if (filling.empty()) return Status::Ok();
    if (!queue.Push(std::move(filling))) return failure();  // the helper stopped on a failure
    filling = Batch();
    return Status::Ok();
  }
  // Hands over what is left and waits until the observers have taken every entry, or stopped.
  Status Finish() {
    Status sent = Send();
    queue.Finish();
    pool.Wait(feeding);
    return failure();
  }
  Status failure() {
    MutexLock lock(mu);
    return failed;
  }

  // The helper's task.
  void Feed(const std::vector<EntryObserver*>& observers) {
    while (std::optional<Batch> batch = queue.Pop()) {
      for (auto& [entry, context] : *batch) {
        for (EntryObserver* o : observers) o->OnApplied(entry, context);
        Status st = FirstFailure(observers);
        if (!st.ok()) {
          MutexLock lock(mu);
          failed = std::move(st);
          queue.Stop();
          return;
        }
      }
    }
  }

  WorkerPool& pool;
  WorkerPool::Group feeding;
  Batch filling;  // the replaying thread's, until sent
  AheadQueue<Batch> queue{kBatchesAhead};
  Mutex mu;
  Status failed FL_GUARDED_BY(mu);  // the observers' first failure
};

Domain::Domain(std::vector<EntryObserver*> observers, rocksdb::ColumnFamilyHandle* projections,
               size_t helper_threads)
    : observers_(std::move(observers)),
      projections_cf_(projections),
      pool_("fl-domain", helper_threads) {}

Domain::~Domain() {
  if (pipe_) {
    Status finished = pipe_->Finish();  // a replay abandoned half way: nobody wants its outcome
    (void)finished;
  }
}

void Domain::AssertGateHeld() const { assert(group_open_ || replaying_); }

// From this many lines on, an approval's observers run beside its state changes.
constexpr size_t kParallelApplyLinesMin = 4096;

Status Domain::Apply(const DomainEvent& event, const EntryMeta& meta, ApplyContext& context) {
  AppliedEntry applied;
  applied.index = meta.index;
  applied.timestamp_ms = meta.timestamp_ms;
  applied.type = EventTypeOf(event);
  const auto* approval = std::get_if<fb::DisbursementBatchApprovedT>(&event);
  // An approval is planned first, so that its observers can run beside its state changes.
  const bool planned = approval != nullptr && !pipe_ && !observers_.empty();
  if (planned) {
    FL_RETURN_IF_ERROR(PlanApproval(state_, *approval, applied));
  } else {
    FL_RETURN_IF_ERROR(ApplyEvent(state_, event, meta, context.undo, applied));
  }
  if (meta.signed_entry != nullptr) state_.keys.Apply(*meta.signed_entry, meta.index, context.undo);
  FL_RETURN_IF_ERROR(CheckPostingsBalance(applied));
  if (group_open_) NoteFundsMoved(applied);
  if (planned) {
    if (applied.payments.size() >= kParallelApplyLinesMin)
      return ApplyApprovalBeside(*approval, meta, context, applied);
    FL_RETURN_IF_ERROR(ApplyPlannedApproval(state_, *approval, meta, context.undo, applied));
  }
  Advance(meta, context);
  if (pipe_) return pipe_->Push(std::move(applied), context);
  for (EntryObserver* o : observers_) o->OnApplied(applied, context);
  return FirstFailure(observers_);
}

// The observers touch only their own state and the sink, the domain only its state: the
// observers' undo steps are kept apart and follow the domain's, as they would in turn.
Status Domain::ApplyApprovalBeside(const fb::DisbursementBatchApprovedT& approval,
                                   const EntryMeta& meta, ApplyContext& context,
                                   const AppliedEntry& applied) {
  UndoLog observer_undo;
  ApplyContext observer_context{context.sink, context.undo != nullptr ? &observer_undo : nullptr};
  WorkerPool::Group beside;
  pool_.Submit(beside, [&] {
    for (EntryObserver* o : observers_) o->OnApplied(applied, observer_context);
  });
  Status applied_to_state = ApplyPlannedApproval(state_, approval, meta, context.undo, applied);
  pool_.Wait(beside);
  if (applied_to_state.ok()) Advance(meta, context);
  if (context.undo != nullptr) context.undo->Append(std::move(observer_undo));
  FL_RETURN_IF_ERROR(applied_to_state);
  return FirstFailure(observers_);
}

void Domain::NoteFundsMoved(const AppliedEntry& applied) {
  for (const Posting& p : applied.postings) {
    if (!IsFundAccount(p.account)) continue;
    FundMoved& moved = staged_funds_[std::string(p.account)];  // fund postings only: a few an entry
    if (!moved.posted.TryAdd(Amount::Fen(p.posted_delta_fen)) ||
        !moved.pending.TryAdd(Amount::Fen(p.pending_delta_fen))) {
      moved.unknown = true;
    }
  }
}

namespace {
bool AtOrAboveZero(const Balance& b) { return b.pending_fen >= 0 && b.posted_fen >= b.pending_fen; }
}  // namespace

// The rules keep every fund at or above zero, counting reservations: a submission they let
// through that takes one below is a bug in a rule, and the program stops before it is written.
// A fund an imported history left below zero may stay there (the audit checks report it).
void Domain::CheckNoFundBelowZero(uint64_t first_index) const {
  for (const auto& [account, moved] : staged_funds_) {
    const Balance& after = state_.BalanceOf(account);
    if (AtOrAboveZero(after) || moved.unknown) continue;
    Result<Amount> posted = after.posted().Minus(moved.posted);
    Result<Amount> pending = after.pending().Minus(moved.pending);
    if (!posted.ok() || !pending.ok() || !AtOrAboveZero(Balance{posted->fen(), pending->fen()}))
      continue;
    std::fprintf(stderr,
                 "fundledger: the submission from entry %llu on leaves %s with %s yuan posted "
                 "and %s reserved; a rule let it through\n",
                 static_cast<unsigned long long>(first_index), account.c_str(),
                 after.posted().ToYuan().c_str(), after.pending().ToYuan().c_str());
    std::abort();
  }
}

void Domain::Advance(const EntryMeta& meta, ApplyContext& context) {
  if (context.undo != nullptr) {  // undone under the gate, by the writer's rollback
    context.undo->Push([next = &state_.next_index, old = state_.next_index] { *next = old; });
  }
  state_.next_index = meta.index + 1;
}

Status Domain::ApplyCommitted(uint64_t index, ByteView bytes, ApplyContext& context) {
  FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
  return ApplyDecoded(index, e, /*payload_verified=*/false, context);
}

Status Domain::ApplyVerified(uint64_t index, ByteView bytes, ApplyContext& context) {
  return ApplyDecoded(index, DecodeVerifiedEntry(bytes), /*payload_verified=*/true, context);
}

Status Domain::ApplyDecoded(uint64_t index, const EntryView& e, bool payload_verified,
                            ApplyContext& context) {
  Result<std::optional<EntrySignature>> signature = DecodeEntrySignature(e.signature);
  if (!signature.ok())
    return Corruption("entry " + std::to_string(index) + ": " + signature.status().message());
  SignedEntryView view{e.actor,           e.role,    e.event_type,
                       e.idempotency_key, e.payload, *signature ? &**signature : nullptr};
  EntryMeta meta{index, e.timestamp_ms, e.actor, e.role, &view};
  DomainEvent event;  // none: observers still see the entry (its index and time)
  if (IsDomainEvent(e.event_type) && payload_verified) {
    event = DecodeVerifiedEvent(e.event_type, e.payload);
  } else if (IsDomainEvent(e.event_type)) {
    Result<DomainEvent> decoded = DecodeEvent(e.event_type, e.payload);
    if (!decoded.ok())
      return Corruption("entry " + std::to_string(index) + ": " + decoded.status().message());
    event = std::move(decoded).value();
  }
  Status st;
  // A replay holds the gate from BeginReplay on: a lock per entry cost ~2% of a rebuild's CPU.
  if (replaying_) {
    st = ApplyReplayed(event, meta, context);
  } else {
    WriterLock lock(gate_);
    st = Apply(event, meta, context);
  }
  // An observer's failure names its entry already; the entry's own (a sum that overflows, a
  // correction naming a line that does not exist) is named here.
  if (st.ok() || st.code() == StatusCode::kCorruption) return st;
  return Corruption("entry " + std::to_string(index) + " cannot be applied: " + st.message());
}

Status Domain::ApplyReplayed(const DomainEvent& event, const EntryMeta& meta,
                             ApplyContext& context) {
  AssertGateHeld();
  return Apply(event, meta, context);
}

Status Domain::Replay(const LogSource& source, uint64_t begin) {
  ApplyContext context;
  BeginReplay();
  Status scanned = ScanEntriesAhead(
      source, begin, source.size(),
      [&](uint64_t i, ByteView bytes, const Hash&) { return ApplyCommitted(i, bytes, context); });
  Status ended = EndReplay(context);
  return scanned.ok() ? ended : scanned;
}

void Domain::BeginReplay() FL_NO_THREAD_SAFETY_ANALYSIS {
  gate_.Lock();  // until EndReplay: readers never see a replay half done
  assert(!pipe_ && !replaying_ && !group_open_);
  replaying_ = true;
  for (EntryObserver* o : observers_) o->OnReplayBegin();
  if (!observers_.empty() && pool_.threads() > 0)
    pipe_ = std::make_unique<ObserverPipe>(observers_, pool_);
}

Status Domain::EndReplay(ApplyContext& context) FL_NO_THREAD_SAFETY_ANALYSIS {
  assert(replaying_);
  replaying_ = false;
  Status fed;
  if (pipe_) {
    fed = pipe_->Finish();
    pipe_.reset();
  }
  for (EntryObserver* o : observers_) o->OnReplayEnd(context);
  if (fed.ok()) fed = FirstFailure(observers_);
  gate_.Unlock();
  return fed;
}

Status Domain::Stage(const Submission& submission, uint64_t first_index, int64_t timestamp_ms,
                     rocksdb::WriteBatch& batch) {
  const auto* decoded = std::any_cast<std::vector<DomainEvent>>(&submission.decoded);
  if (decoded != nullptr && decoded->size() == submission.entries.size())
    return StageEvents(submission, *decoded, first_index, timestamp_ms, batch);
  std::vector<DomainEvent> events;
  events.reserve(submission.entries.size());
  for (size_t k = 0; k < submission.entries.size(); ++k) {
    const NewEntry& e = submission.entries[k];
    if (!IsDomainEvent(e.event_type)) {
      events.emplace_back(std::monostate{});
      continue;
    }
    Result<DomainEvent> ev = DecodeEvent(e.event_type, e.payload);
    if (!ev.ok()) return Status(ev.status()).WithLine(k + 1);
    Status fields = CheckEventFields(*ev);
    if (!fields.ok()) return fields.line() == 0 ? fields.WithLine(k + 1) : fields;
    events.push_back(std::move(ev).value());
  }
  return StageEvents(submission, events, first_index, timestamp_ms, batch);
}

Status Domain::StageEvents(const Submission& submission, const std::vector<DomainEvent>& events,
                           uint64_t first_index, int64_t timestamp_ms, rocksdb::WriteBatch& batch) {
  assert(events.size() == submission.entries.size());
  OpenGroup();
  AssertGateHeld();
  staged_funds_.clear();
  std::vector<SignedEntryView> views;
  views.reserve(submission.entries.size());
  for (const NewEntry& e : submission.entries) {
    views.push_back({e.actor, e.role, e.event_type, submission.idempotency_key, e.payload,
                     e.signature ? &*e.signature : nullptr});
  }
  FL_RETURN_IF_ERROR(CheckSigned(views));
  BatchSink sink(batch, projections_cf_);
  ApplyContext context{projections_cf_ != nullptr ? &sink : nullptr, &undo_};
  size_t mark = undo_.Mark();
  std::vector<ChunkNameIds> chunk_names;  // of the batch being staged, by chunk
  for (size_t k = 0; k < events.size();) {
    const NewEntry& ne = submission.entries[k];
    EntryMeta meta{first_index + k, timestamp_ms, ne.actor, ne.role};
    // The chunks of one batch are checked together, then applied one entry each.
    size_t span = 1;
    Status st;
    if (auto* prepared = std::get_if<fb::DisbursementBatchPreparedT>(&events[k])) {
      std::vector<const fb::DisbursementBatchPreparedT*> chunks{prepared};
      while (chunks.size() < prepared->chunks && k + chunks.size() < events.size()) {
        auto* next = std::get_if<fb::DisbursementBatchPreparedT>(&events[k + chunks.size()]);
        if (next == nullptr) break;
        chunks.push_back(next);
      }
      span = chunks.size();
      st = CheckBatchRules(state_, chunks, &pool_, &chunk_names);
    } else if (!std::holds_alternative<std::monostate>(events[k])) {
      st = CheckRules(state_, events[k], meta, &pool_);
    }
    if (!st.ok()) {
      undo_.RollbackTo(mark);
      if (submission.entries.size() > 1 && st.line() == 0) st.WithLine(k + 1);
      return st;
    }
    for (size_t j = 0; j < span && st.ok(); ++j) {
      const NewEntry& e = submission.entries[k + j];
      EntryMeta m{first_index + k + j, timestamp_ms, e.actor, e.role, &views[k + j]};
      if (j < chunk_names.size()) m.chunk_names = &chunk_names[j];
      if (IsKeyEvent(e.event_type)) st = state_.keys.CheckKeyEvent(views[k + j]);
      if (!st.ok()) break;
      st = Apply(events[k + j], m, context);
      if (st.ok()) AssertPaymentInvariant(state_, events[k + j], m);
      // An observer that cannot add it up (EntryObserver::failure) refuses it as the domain would.
      if (st.code() == StatusCode::kCorruption)
        st = RuleError(RuleCode::kAmountOverflow, st.message());
      if (!st.ok() && submission.entries.size() > 1 && st.line() == 0) st.WithLine(k + j + 1);
    }
    if (!st.ok()) {
      undo_.RollbackTo(mark);
      return st;
    }
    chunk_names.clear();
    k += span;
  }
  CheckNoFundBelowZero(first_index);
  sink.Flush();
  return Status::Ok();
}

Status Domain::CheckSigned(const std::vector<SignedEntryView>& views) const {
  return state_.keys.CheckCommand(origin_, views);
}

std::string Domain::SaveState() const {
  ReaderLock lock(gate_);
  return EncodeDomainState(state_);
}

Status Domain::LoadState(std::string_view bytes) {
  FL_ASSIGN_OR_RETURN(DomainState state, DecodeDomainState(bytes));
  WriterLock lock(gate_);
  state_ = std::move(state);
  undo_.Clear();
  return Status::Ok();
}

void Domain::OpenGroup() FL_NO_THREAD_SAFETY_ANALYSIS {
  if (group_open_) return;
  gate_.Lock();
  group_open_ = true;
}

void Domain::CloseGroup() FL_NO_THREAD_SAFETY_ANALYSIS {
  assert(group_open_);
  group_open_ = false;
  gate_.Unlock();
}

// The log calls Commit once the group's WriteBatch is durable, Abort when it failed: only then
// may readers see the group's effects, or their absence.
void Domain::Commit() {
  assert(!replaying_);
  if (!group_open_) return;  // a group of replayed or refused submissions only: nothing staged
  AssertGateHeld();
  undo_.Clear();
  CloseGroup();
}

void Domain::Abort() {
  assert(!replaying_);
  if (!group_open_) return;
  AssertGateHeld();
  undo_.RollbackTo(0);
  CloseGroup();
}

}  // namespace fundledger