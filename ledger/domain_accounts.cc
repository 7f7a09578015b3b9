#include "ledger/domain_accounts.h"

#include <algorithm>
#include <cassert>

namespace fundledger {

const Balance* Accounts::Get(std::string_view name) const {
  std::optional<AccountId> id = names_.Find(name);
  return id ? Get(*id) : nullptr;
}

Balance& Accounts::GetOrAdd(AccountId id, bool* added) {
  assert(id != kNoAccountId);
  if (id >= slots_.size()) slots_.resize(size_t{id} + 1);
  Slot& slot = slots_[id];
  *added = !slot.present;
  if (!slot.present) {
    slot = Slot{Balance{}, true};
    ++size_;
  }
  return slot.balance;
}

void Accounts::Erase(AccountId id) {
  if (id >= slots_.size() || !slots_[id].present) return;
  slots_[id] = Slot{};
  --size_;
}

std::vector<std::pair<std::string_view, const Balance*>> Accounts::SortedByName() const {
  std::vector<std::pair<std::string_view, const Balance*>> out;
  out.reserve(size_);
  for (AccountId id = 0; id < slots_.size(); ++id) {
    if (slots_[id].present) out.emplace_back(names_[id], &slots_[id].balance);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace fundledger
