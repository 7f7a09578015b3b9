#include "api/request_fields.h"

#include <boost/json.hpp>
#include <charconv>

namespace fundledger {
namespace json = boost::json;

Result<uint64_t> U64Param(const RequestParams& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end() || it->second.empty())
    return InvalidArgument("query parameter '" + name + "' is required").WithField(name);
  uint64_t v = 0;
  auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size()) {
    return InvalidArgument("'" + name + "' must be a whole number below 2^64, got '" +
                           it->second.substr(0, 40) + "'")
        .WithField(name);
  }
  return v;
}

std::string Param(const RequestParams& params, const std::string& name, std::string fallback) {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

Result<JsonFields> JsonFields::Parse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body.empty() ? std::string_view("{}") : body, ec);
  json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return InvalidArgument("the request body must be a JSON object");
  return JsonFields(std::move(*o), "");
}

const json::value* JsonFields::Find(std::string_view name) const {
  const json::value* v = object_.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

bool JsonFields::Has(std::string_view name) const { return Find(name) != nullptr; }

Status JsonFields::Mistyped(std::string_view name, std::string_view what) const {
  std::string field = prefix_ + std::string(name);
  return InvalidArgument("'" + field + "' must be " + std::string(what)).WithField(field);
}

Result<std::string> JsonFields::String(std::string_view name, std::string fallback) const {
  const json::value* v = Find(name);
  if (v == nullptr) return fallback;
  const json::string* s = v->if_string();
  if (s == nullptr) return Mistyped(name, "a string");
  return std::string(*s);
}

Result<uint64_t> JsonFields::U64(std::string_view name, uint64_t fallback) const {
  const json::value* v = Find(name);
  if (v == nullptr) return fallback;
  boost::system::error_code ec;
  uint64_t n = v->is_number() ? v->to_number<uint64_t>(ec) : 0;
  if (!v->is_number() || ec) return Mistyped(name, "a whole number from 0 to 2^64-1");
  return n;
}

Result<bool> JsonFields::Bool(std::string_view name, bool fallback) const {
  const json::value* v = Find(name);
  if (v == nullptr) return fallback;
  const bool* b = v->if_bool();
  if (b == nullptr) return Mistyped(name, "true or false");
  return *b;
}

Result<JsonFields> JsonFields::Object(std::string_view name) const {
  const json::value* v = Find(name);
  const json::object* o = v == nullptr ? nullptr : v->if_object();
  if (o == nullptr) return Mistyped(name, "an object");
  return JsonFields(*o, prefix_ + std::string(name) + ".");
}

}  // namespace fundledger
