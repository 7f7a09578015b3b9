// Hash maps keyed by strings for the hot paths (balances, paid slots, projection rows):
// Boost's open-addressing flat map, which probes one array instead of chasing a node per
// entry, and takes string_view lookups without building a key string.
//
// Unlike std::unordered_map, an insert may move every element: never keep a reference or
// iterator across an insert into the same map.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace fundledger {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename V>
using StringMap = boost::unordered_flat_map<std::string, V, StringHash, StringEqual>;

}  // namespace fundledger
