#include "api/request_fields.h"

#include <charconv>

namespace fundledger {

Result<uint64_t> U64Param(const RequestParams& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty())
    return InvalidArgument("query parameter '" + name + "' is required").WithField(name);
  uint64_t v = 0;
  auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size()) {
    return InvalidArgument("'" + name + "' must be a whole number, got '" +
                           it->second.substr(0, 40) + "'")
        .WithField(name);
  }
  return v;
}

std::string Param(const RequestParams& params, const std::string& name, std::string fallback) {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

}  // namespace fundledger
