#include "tests/tlog_vector_rows.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fundledger::testing {

namespace json = boost::json;

std::vector<json::object> ReadRows(const std::string& file_name) {
  std::string path = std::string(FUNDLEDGER_TLOG_VECTORS_DIR) + "/" + file_name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing test vectors: " << path;
  std::vector<json::object> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    rows.push_back(json::parse(line).as_object());
  }
  EXPECT_FALSE(rows.empty()) << path;
  return rows;
}

std::string Str(const json::object& row, std::string_view key) {
  const json::value* v = row.if_contains(key);
  if (v == nullptr || v->is_null()) return "";
  return std::string(v->as_string());
}

bool Has(const json::object& row, std::string_view key) {
  const json::value* v = row.if_contains(key);
  return v != nullptr && !v->is_null();
}

uint64_t U64(const json::object& row, std::string_view key) {
  return json::value_to<uint64_t>(row.at(key));
}

Bytes HexBytes(const std::string& hex) {
  Result<Bytes> b = HexDecode(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return b.ok() ? *b : Bytes{};
}

}  // namespace fundledger::testing
