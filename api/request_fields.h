// Typed reads of what a client sent: path and query parameters by name, and the fields of a
// JSON object body. A missing (where required), mistyped or out-of-range value is an
// InvalidArgument naming the field (HTTP 400), never an exception: these readers use only
// Boost.JSON's non-throwing accessors and std::from_chars.
//
//   Result<uint64_t> size = U64Param(params, "size");   // "99999999999999999999" -> 400, size
//   FL_ASSIGN_OR_RETURN(JsonFields body, JsonFields::Parse(request.body));
//   FL_ASSIGN_OR_RETURN(uint64_t corrects, body.U64("corrects_index"));
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "crypto/status.h"

namespace fundledger {

// Path parameters and the query, by name.
using RequestParams = std::map<std::string, std::string>;

// A required whole number.
Result<uint64_t> U64Param(const RequestParams& params, const std::string& name);
// The parameter's text, or `fallback` when absent.
std::string Param(const RequestParams& params, const std::string& name, std::string fallback = "");

// The fields of a JSON object. An absent field (or null) reads as the fallback; a present one of
// another type is an error naming it ("person.name" for a field of a nested object).
class JsonFields {
 public:
  // An empty body reads as {}; anything but an object is InvalidArgument.
  static Result<JsonFields> Parse(std::string_view body);

  Result<std::string> String(std::string_view name, std::string fallback = "") const;
  Result<uint64_t> U64(std::string_view name, uint64_t fallback = 0) const;
  Result<bool> Bool(std::string_view name, bool fallback = false) const;
  // A nested object; absent or of another type is an error naming it.
  Result<JsonFields> Object(std::string_view name) const;
  bool Has(std::string_view name) const;

  boost::json::object& object() { return object_; }

 private:
  JsonFields(boost::json::object object, std::string prefix)
      : object_(std::move(object)), prefix_(std::move(prefix)) {}
  // The field, or null when absent or JSON null.
  const boost::json::value* Find(std::string_view name) const;
  Status Mistyped(std::string_view name, std::string_view what) const;

  boost::json::object object_;
  std::string prefix_;  // "person." for the fields of a nested object
};

}  // namespace fundledger
