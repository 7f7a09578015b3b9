#include "cluster/pg_log_of_record.h"

#include <cassert>
#include <vector>

namespace fundledger {
namespace {

Status WithRule(Status status, std::string_view rule) {
  status.WithRule(std::string(rule));
  return status;
}

}  // namespace

PgLogOfRecord::PgLogOfRecord(std::unique_ptr<PgLogStore> store, uint64_t epoch,
                             StepDown on_step_down)
    : store_(std::move(store)), epoch_(epoch), on_step_down_(std::move(on_step_down)) {}

std::string PgLogOfRecord::step_down_reason() const {
  MutexLock lock(mu_);
  return reason_;
}

Status PgLogOfRecord::Append(const RecordGroup& group) {
  if (stepped_down()) return StepDownWith(Status());
  assert(group.entries.size() == group.leaf_hashes.size());
  std::vector<GroupEntry> entries;
  entries.reserve(group.entries.size());
  for (size_t i = 0; i < group.entries.size(); ++i)
    entries.push_back(GroupEntry{group.entries[i], group.leaf_hashes[i]});
  const AppendGroupRequest request{epoch_, group.first_index, group.prev_leaf_hash, entries,
                                   std::string(group.checkpoint_note)};
  Status s = store_->AppendGroup(request);
  if (s.rule() == kCommitInDoubt) s = Settle(request);
  if (s.ok() || s.rule() == kNotCommitted) return s;
  if (s.rule() == kWriterFenced || s.rule() == kHeadMoved || s.rule() == kWriterLockHeld ||
      s.rule() == kCommitInDoubt) {
    return StepDownWith(s);
  }
  return s;  // e.g. no primary within the reconnect wait: nothing appended, may be retried
}

Status PgLogOfRecord::KeepLease() {
  if (stepped_down()) return StepDownWith(Status());
  Status s = store_->KeepLease();
  return s.rule() == kWriterFenced ? StepDownWith(s) : s;
}

Status PgLogOfRecord::Settle(const AppendGroupRequest& request) {
  Status last;
  for (int attempt = 0; attempt < kSettleAttemptsMax; ++attempt) {
    Result<SettleOutcome> settled = store_->SettleInDoubt(request);
    if (settled.ok()) {
      if (settled->committed) return Status::Ok();
      return WithRule(IoError("the group at index " + std::to_string(request.first_index) +
                              " was not committed in PostgreSQL; nothing was appended"),
                      kNotCommitted);
    }
    last = settled.status();
    if (last.rule() != kCommitInDoubt) break;
  }
  return WithRule(IoError("the group at index " + std::to_string(request.first_index) +
                          " is still in doubt: " + last.message()),
                  kCommitInDoubt);
}

Status PgLogOfRecord::StepDownWith(const Status& why) {
  bool first = false;
  std::string reason;
  {
    MutexLock lock(mu_);
    if (reason_.empty() && !why.ok()) {
      reason_ = why.message();
      first = true;
    }
    reason = reason_;
  }
  stepped_down_.store(true, std::memory_order_release);
  if (first && on_step_down_) on_step_down_(why);
  return WithRule(Overloaded("this node no longer writes the log (" + reason +
                             "); send writes to the cluster's writer"),
                  kWriterFenced);
}

}  // namespace fundledger
