// Names: the ids that recur on every line of every roll (people, programs, batches), each kept
// once. A batch line and a payment slot hold NameId numbers, not copies of the strings: a line
// is 32 bytes instead of ~90, a slot key 12 bytes.
//
// An id is never taken back (one interned by a submission that was then rejected stays,
// unused), and names never move in memory, so a view of one stays valid. Nothing stored or
// hashed depends on the numbers: snapshots write the names themselves.
//
//   NameId b = state.names.Intern("B1");
//   const std::string& name = state.names[b];         // "B1"
//   std::optional<NameId> p = state.names.Find("dibao");  // nullopt: never interned
//
// Thread safety: interned by the thread that holds the domain's gate exclusively; read by
// anyone holding it.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cassert>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/string_map.h"

namespace fundledger {

using NameId = uint32_t;

class Names {
 public:
  NameId Intern(std::string_view name);
  std::optional<NameId> Find(std::string_view name) const;
  const std::string& operator[](NameId id) const {
    assert(id < names_.size());
    return names_[id];
  }

 private:
  std::deque<std::string> names_;  // a deque: strings stay where they are as it grows
  boost::unordered_flat_map<std::string_view, NameId, StringHash, StringEqual>
      ids_;  // views into names_
};

}  // namespace fundledger
