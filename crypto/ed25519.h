// Ed25519 keys, signatures and verification through OpenSSL's EVP interface.
//
// A private key is its 32-byte seed (RFC 8032). Key material is never logged: there is
// no ToString, and the seed is wiped when the key is destroyed.
//
//   Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
//   Bytes sig = key.Sign(AsBytes("message"));
//   Status ok = Ed25519Verify(key.public_key(), AsBytes("message"), sig);
//
// Many signatures by one key go through an Ed25519Verifier, which holds OpenSSL's form of the
// key; the free Ed25519Verify builds it for each call.
#pragma once

#include <array>
#include <memory>

#include "crypto/encoding.h"

using EVP_PKEY = struct evp_pkey_st;
using EVP_MD_CTX = struct evp_md_ctx_st;

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
// Ok when `public_key` is one a signer can hold: the canonical encoding of a point on the curve
// in its prime-order subgroup (libsodium's crypto_core_ed25519_is_valid_point). Verification
// alone (OpenSSL 3.0) does not refuse a key of small order, and under such a key (the neutral
// point, say) a forged signature of any message verifies: anyone could sign as it, and its
// holder could deny what it signed. Every key the ledger is asked to trust from outside (a
// registered staff key, a verifier key an operator or auditor names) passes this first; a key
// made by Ed25519PrivateKey always does.
Status Ed25519CheckPublicKey(const Ed25519PublicKey& public_key);
// Ok when `signature` is a valid signature of `message` by `public_key`. For one-off checks:
// it builds OpenSSL's form of the key on every call.
Status Ed25519Verify(const Ed25519PublicKey& public_key, ByteView message, ByteView signature);

// Verifies signatures by one public key with OpenSSL's form of the key and a verification
// context started with it once; each check runs on a copy of that context. Building the key
// and starting a context each fetch an implementation by name, which in a long walk (caches
// cold) cost as much as a third of the ~100-150 µs check itself. Accepts and refuses exactly
// what Ed25519Verify does with the same key. Copies of a verifier share what it built, and
// Verify may run on any number of threads at once: the started context is only ever read
// (EVP_MD_CTX_copy_ex takes it const, and OpenSSL's objects are thread-safe under calls that
// do not modify them).
//
//   Ed25519Verifier verifier(public_key);
//   for (const Signed& s : signed_notes) FL_RETURN_IF_ERROR(verifier.Verify(s.text, s.sig));
class Ed25519Verifier {
 public:
  // The all-zero key, as a default Ed25519PublicKey is.
  Ed25519Verifier() = default;
  // Implicit: a verifier is its public key in the form OpenSSL checks with, so a struct that
  // holds one is still built from the key alone.
  Ed25519Verifier(const Ed25519PublicKey& public_key);  // NOLINT: implicit by design

  const Ed25519PublicKey& public_key() const { return public_key_; }
  Status Verify(ByteView message, ByteView signature) const;

 private:
  Ed25519PublicKey public_key_{};
  // A verification context started with OpenSSL's form of the key, never used itself: each
  // Verify checks on a copy. Null for a default verifier, or if OpenSSL refused the key or
  // could not start: Verify then answers through Ed25519Verify, which does (or refuses) each
  // step itself.
  std::shared_ptr<EVP_MD_CTX> started_;
};

}  // namespace fundledger
