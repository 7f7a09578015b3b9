// SHA-256 through OpenSSL (its SHA-NI code where the CPU has it): one-shot and incremental.
//
//   Sha256 h;
//   h.Update(AsBytes("abc"));
//   Hash digest = h.Finish();   // or Sha256::Digest(bytes)
//
// A Sha256 object is single-threaded; create one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "crypto/encoding.h"

namespace fundledger {

inline constexpr size_t kHashBytes = 32;
using Hash = std::array<uint8_t, kHashBytes>;

// Hash from exactly 32 bytes; any other length is an error (a truncated or padded hash).
Result<Hash> HashFromBytes(ByteView bytes);
Result<Hash> HashFromHex(std::string_view hex);
inline std::string HashHex(const Hash& h) { return HexEncode(h); }

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& Update(ByteView bytes);
  Sha256& Update(uint8_t byte) { return Update(ByteView(&byte, 1)); }
  // Returns the digest and resets the object for a new message.
  Hash Finish();

  static Hash Digest(ByteView bytes);

 private:
  struct State;  // OpenSSL's context, defined in sha256.cc
  std::unique_ptr<State> state_;
};

}  // namespace fundledger
