// Typed reads of what a client sent: path and query parameters, by name. A missing,
// malformed or out-of-range value is an InvalidArgument naming the field (HTTP 400), never an
// exception.
//
//   Result<uint64_t> size = U64Param(params, "size");   // "99999999999999999999" -> 400, size
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "crypto/status.h"

namespace fundledger {

// Path parameters and the query, by name.
using RequestParams = std::map<std::string, std::string>;

// A required whole number.
Result<uint64_t> U64Param(const RequestParams& params, const std::string& name);
// The parameter's text, or `fallback` when absent.
std::string Param(const RequestParams& params, const std::string& name, std::string fallback = "");

}  // namespace fundledger
