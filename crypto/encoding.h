// Byte strings and their text forms: lowercase hex and strict standard base64.
//
// Base64 decoding is strict (RFC 4648 section 3.5): padding is required, and the unused
// bits of the last symbol must be zero. Signed notes depend on this: a signature whose
// base64 differs only in those bits is a different text and must not verify.
#pragma once

#include <boost/endian/conversion.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/status.h"

namespace fundledger {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string HexEncode(ByteView bytes);
// Accepts upper- and lowercase digits; rejects odd lengths and other characters.
Result<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(ByteView bytes);
Result<Bytes> Base64Decode(std::string_view text);

// Big-endian fixed-width integers, the byte order of every RocksDB key we write, so that
// byte order and numeric order agree. Inline: keys, cursors and digests call them per row.
// Boost.Endian: one unaligned load or store and a byte swap.
inline void PutBigEndian64(uint64_t value, uint8_t* out) {
  boost::endian::store_big_u64(out, value);
}
inline uint64_t GetBigEndian64(const uint8_t* in) { return boost::endian::load_big_u64(in); }
inline void PutBigEndian32(uint32_t value, uint8_t* out) {
  boost::endian::store_big_u32(out, value);
}
inline uint32_t GetBigEndian32(const uint8_t* in) { return boost::endian::load_big_u32(in); }

}  // namespace fundledger
