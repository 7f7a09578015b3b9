// Accounts: every account the domain (or a read model) has posted to, interned once, and the
// balances held by its AccountId in one dense array. A roll line's posting carries the id, so
// its balance changes by an array index, not a hash of "ben/<person>".
//
// An id is never taken back (an account interned by a submission that was then rejected stays,
// with no balance), and names never move in memory (ledger/names.h), so a Posting's view of its
// account's name stays valid for the life of the table. Only accounts with a balance (ever
// posted to, and not undone) are listed; snapshots write the names in name order, never the ids.
//
//   AccountId a = accounts.Intern("fund/F/general");
//   bool added = false;
//   accounts.GetOrAdd(a, &added).posted_fen += 100;  // added: first posting
//   const Balance* b = accounts.Get("fund/F/general");  // the same balance
//
// Thread safety: none of its own; the owner's lock (the domain's gate, the projections' mutex).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/amount.h"
#include "ledger/effects.h"
#include "ledger/names.h"

namespace fundledger {

struct Balance {
  int64_t posted_fen = 0;
  int64_t pending_fen = 0;  // reserved by prepared, undecided rolls
  // For showing: saturates at the 64-bit limits, which only an imported log's balances reach.
  int64_t available_fen() const {
    int64_t out = 0;
    if (!__builtin_sub_overflow(posted_fen, pending_fen, &out)) return out;
    return pending_fen < 0 ? INT64_MAX : INT64_MIN;
  }

  Amount posted() const { return Amount::Fen(posted_fen); }
  Amount pending() const { return Amount::Fen(pending_fen); }
  // Posted less reserved, checked: an imported log can hold any balance.
  Result<Amount> available() const { return posted().Minus(pending()); }
};

class Accounts {
 public:
  // The account's id, interned when new.
  AccountId Intern(std::string_view name) { return names_.Intern(name); }
  std::optional<AccountId> Find(std::string_view name) const { return names_.Find(name); }
  // The name of an interned id; the reference never moves.
  const std::string& name(AccountId id) const { return names_[id]; }
  // A posting to interned account `id`, naming it by a view of the interned name.
  Posting PostingTo(AccountId id, int64_t posted_delta_fen, int64_t pending_delta_fen) const {
    return Posting{name(id), posted_delta_fen, pending_delta_fen, id};
  }
  // Every id that holds a balance is below this.
  AccountId id_end() const { return static_cast<AccountId>(slots_.size()); }

  // The balance of `id` (or of the account named so), null when it has none.
  const Balance* Get(AccountId id) const {
    return id < slots_.size() && slots_[id].present ? &slots_[id].balance : nullptr;
  }
  const Balance* Get(std::string_view name) const;
  // The balance of interned `id`, added at zero when it had none (`*added` says which). The
  // reference is valid until the next GetOrAdd.
  Balance& GetOrAdd(AccountId id, bool* added);
  // Gives interned `id` the balance `b`, listed from now on (an undone change puts one back).
  void Restore(AccountId id, const Balance& b) {
    bool added = false;
    GetOrAdd(id, &added) = b;
  }
  // Takes the balance of `id` away (an undone first posting): it is listed no more.
  void Erase(AccountId id);
  // How many accounts hold a balance.
  size_t size() const { return size_; }
  // The accounts that hold a balance, in name order (for snapshots: bytes must not depend on ids).
  std::vector<std::pair<std::string_view, const Balance*>> SortedByName() const;

 private:
  struct Slot {
    Balance balance;
    bool present = false;
  };
  Names names_;
  std::vector<Slot> slots_;  // by AccountId; grown to the ids given a balance
  size_t size_ = 0;
};

}  // namespace fundledger
