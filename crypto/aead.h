// AES-256-GCM sealing and HMAC-SHA-256, through OpenSSL EVP: the personal-data vault's
// encryption and the keyed commitments that stand for ID and account numbers in the log.
//
// A sealed box is nonce (12 bytes, random) || ciphertext || tag (16 bytes). The associated
// data binds a box to its owner (the vault uses the subject id), so a box moved to another
// record fails to open.
//
//   Bytes box = *AeadSeal(key, AsBytes("张三"), AsBytes("ben:B1"));
//   Result<Bytes> plain = AeadOpen(key, box, AsBytes("ben:B1"));
#pragma once

#include <array>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace fundledger {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;
using AeadKey = std::array<uint8_t, kAeadKeyBytes>;

AeadKey RandomAeadKey();
Result<Bytes> AeadSeal(const AeadKey& key, ByteView plaintext, ByteView associated_data);
Result<Bytes> AeadOpen(const AeadKey& key, ByteView box, ByteView associated_data);

Hash HmacSha256(ByteView key, ByteView message);

}  // namespace fundledger
