// The third-party vectors in ../shared/testdata/tlog: one JSON object a line, read by every
// vector suite. A missing or empty file fails the calling test; it never skips.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/encoding.h"

namespace fundledger::testing {

std::vector<boost::json::object> ReadRows(const std::string& file_name);
// The string field `key`, or "" when it is absent or null.
std::string Str(const boost::json::object& row, std::string_view key);
bool Has(const boost::json::object& row, std::string_view key);
uint64_t U64(const boost::json::object& row, std::string_view key);
Bytes HexBytes(const std::string& hex);

}  // namespace fundledger::testing
