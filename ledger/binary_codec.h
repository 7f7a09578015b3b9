// A minimal length-prefixed binary encoding for snapshots of in-memory state: big-endian
// integers, length-prefixed byte strings. A Reader never reads past its end; after a short
// read every later read returns zero values and ok() is false.
#pragma once

#include <string>
#include <string_view>

#include "crypto/encoding.h"

namespace fundledger {

class BinaryWriter {
 public:
  void U64(uint64_t v) {
    uint8_t b[8];
    PutBigEndian64(v, b);
    out_.append(reinterpret_cast<const char*>(b), 8);
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void I32(int32_t v) { U64(static_cast<uint64_t>(static_cast<int64_t>(v))); }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Str(std::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Bytes(ByteView b) { Str(AsChars(b)); }
  std::string& data() { return out_; }

 private:
  std::string out_;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view in) : in_(in) {}
  uint64_t U64() {
    if (in_.size() < 8) return Fail();
    uint64_t v = GetBigEndian64(reinterpret_cast<const uint8_t*>(in_.data()));
    in_.remove_prefix(8);
    return v;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  int32_t I32() { return static_cast<int32_t>(I64()); }
  uint8_t U8() {
    if (in_.empty()) return static_cast<uint8_t>(Fail());
    uint8_t v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  std::string Str() {
    uint64_t n = U64();
    if (n > in_.size()) {
      Fail();
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  // A count of items that follow, each at least `min_item_bytes` long: bounded by the input.
  uint64_t Count(size_t min_item_bytes = 1) {
    uint64_t n = U64();
    if (n > in_.size() / std::max<size_t>(min_item_bytes, 1)) return Fail();
    return n;
  }
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace fundledger
