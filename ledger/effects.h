// What applying an entry changes, as the domain reports it to read models (projections/),
// and the small machinery that makes a commit group all-or-nothing in memory.
//
// The domain turns each entry into postings (double entry: the deltas of one entry sum to
// zero over all accounts) and payment effects; observers turn those into stored rows through
// a KeyValueSink (the group's WriteBatch, or a map during an in-memory replay) and record how
// to undo their in-memory changes in the UndoLog, which the domain rolls back when a
// submission is rejected or a commit fails.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/status.h"
#include "ledger/entry_generated.h"
#include "ledger/names.h"

namespace fundledger {

// Account names: "fund/<fund>/<bucket>" (never negative), "ben/<beneficiary>" (what a person
// received, net), "ext/<source>" (treasury, donors, payees: outside the ledger, may go negative).
std::string FundAccount(std::string_view fund, std::string_view bucket);
std::string BeneficiaryAccount(std::string_view beneficiary);
std::string ExternalAccount(std::string_view name);
inline bool IsFundAccount(std::string_view account) { return account.starts_with("fund/"); }

// An id in DomainState::names that no name holds: an effect built without the domain's ids.
inline constexpr NameId kNoNameId = UINT32_MAX;

// An account interned in the domain's table of accounts (DomainState::accounts,
// ledger/domain_accounts.h); kNoAccountId: a posting built without the domain's ids.
using AccountId = uint32_t;
inline constexpr AccountId kNoAccountId = UINT32_MAX;

// One account's change by one entry. The domain's postings name their account by a view of its
// interned name (it never moves, like a PaymentEffect's views: an approval of 1M lines copies no
// string) and by its id there. As with PaymentEffect, an id means one name for the life of the
// domain's state only: an observer that indexes by id checks the name it finds against the view.
struct Posting {
  std::string_view account;
  int64_t posted_delta_fen = 0;
  int64_t pending_delta_fen = 0;  // reservations of prepared, unapproved disbursements
  AccountId account_id = kNoAccountId;
};
static_assert(sizeof(Posting) <= 40, "a posting per roll line: keep it to a view, an id, deltas");

// A line paid (+1) or undone (-1: returned, reversed, recovered in full). The person, the
// program and the person's region are views of the domain's interned names (ledger/names.h:
// they never move, so the views outlive the entry and any later change of the person; an
// approval builds one effect a line and copies no string) and, where the domain has them, the
// person's and the program's ids there. An id means one
// name for the life of the domain's state, not across a snapshot load or another process: an
// observer that indexes by id checks the name it finds against the view.
struct PaymentEffect {
  std::string_view beneficiary;
  std::string_view program;
  std::string_view region;
  int32_t period = 0;
  int64_t amount_fen = 0;  // signed: negative when money comes back
  int32_t lines_delta = 0;
  NameId beneficiary_id = kNoNameId;
  NameId program_id = kNoNameId;
};
static_assert(sizeof(PaymentEffect) <= 80, "an effect per roll line: keep it to views and ids");

struct AppliedEntry {
  uint64_t index = 0;
  int64_t timestamp_ms = 0;
  fb::EventType type = fb::EventType::Unknown;
  std::vector<Posting> postings;
  std::vector<PaymentEffect> payments;
};

class UndoLog {
 public:
  void Push(std::function<void()> undo) { steps_.push_back(std::move(undo)); }
  size_t Mark() const { return steps_.size(); }
  void RollbackTo(size_t mark) {
    while (steps_.size() > mark) {
      steps_.back()();
      steps_.pop_back();
    }
  }
  void Clear() { steps_.clear(); }
  // Moves `other`'s steps after this log's own (undone before them).
  void Append(UndoLog&& other) {
    steps_.insert(steps_.end(), std::make_move_iterator(other.steps_.begin()),
                  std::make_move_iterator(other.steps_.end()));
    other.steps_.clear();
  }

 private:
  std::vector<std::function<void()>> steps_;
};

class KeyValueSink {
 public:
  virtual ~KeyValueSink() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
};

struct ApplyContext {
  KeyValueSink* sink = nullptr;  // null: update memory only (replay on open)
  UndoLog* undo = nullptr;       // null: nothing will be rolled back (replay)
};

// A read model fed by the domain in log order: on the writer thread, or, for an approval of
// 4,096 lines or more, on a thread beside it while the domain changes its own state (the
// writer waits for both); during a replay, on a thread of its own.
class EntryObserver {
 public:
  virtual ~EntryObserver() = default;
  virtual void OnApplied(const AppliedEntry& entry, ApplyContext& context) = 0;
  // A replay (many committed entries, nothing to roll back) starts and ends: an observer may
  // defer work that only its end result needs. OnReplayEnd may write through `context.sink`.
  virtual void OnReplayBegin() {}
  virtual void OnReplayEnd(ApplyContext& /*context*/) {}
  // The first entry this observer could not apply (a total that would overflow, in an imported
  // log), as a Corruption naming the entry; ok while there is none. The domain checks it after
  // feeding an entry: a staged submission is refused (`amount_overflow`) and rolled back, a
  // replay stops with it. An observer fed with an undo log records, with the failure, an undo
  // step that clears it: a refused submission leaves no failure behind.
  virtual Status failure() const { return Status::Ok(); }
};

}  // namespace fundledger
