#include "ledger/names.h"

#include <cstdint>

namespace fundledger {

NameId Names::Intern(std::string_view name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  assert(names_.size() < UINT32_MAX);
  const std::string& stored = names_.emplace_back(name);
  NameId id = static_cast<NameId>(names_.size() - 1);
  ids_.emplace(std::string_view(stored), id);
  return id;
}

std::optional<NameId> Names::Find(std::string_view name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

}  // namespace fundledger
