// Ed25519 keys, signatures and verification through OpenSSL's EVP interface.
//
// A private key is its 32-byte seed (RFC 8032). Key material is never logged: there is
// no ToString, and the seed is wiped when the key is destroyed.
//
//   Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
//   Bytes sig = key.Sign(AsBytes("message"));
//   Status ok = Ed25519Verify(key.public_key(), AsBytes("message"), sig);
#pragma once

#include <array>
#include <memory>

#include "crypto/encoding.h"

using EVP_PKEY = struct evp_pkey_st;

namespace fundledger {

inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeyBytes>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureBytes>;

class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();  // from OpenSSL's CSPRNG
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);

  Ed25519PrivateKey(const Ed25519PrivateKey&) = default;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = default;
  ~Ed25519PrivateKey();

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The seed, for writing the key file; handle with care.
  ByteView seed() const { return seed_; }
  Ed25519Signature Sign(ByteView message) const;

 private:
  Ed25519PrivateKey() = default;
  std::array<uint8_t, kEd25519SeedBytes> seed_{};
  Ed25519PublicKey public_key_{};
  // OpenSSL's form of the key, built once: building it derives the public key (a scalar
  // multiplication), which would double the cost of every signature. Shared by copies; OpenSSL
  // allows concurrent signing with one key.
  std::shared_ptr<EVP_PKEY> pkey_;
};

Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(ByteView bytes);
// Ok when `signature` is a valid signature of `message` by `public_key`.
Status Ed25519Verify(const Ed25519PublicKey& public_key, ByteView message, ByteView signature);

}  // namespace fundledger
