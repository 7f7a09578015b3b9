#include "crypto/ed25519.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace fundledger {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

PkeyPtr PrivatePkey(ByteView seed) {
  return PkeyPtr(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
}

PkeyPtr PublicPkey(const Ed25519PublicKey& public_key) {
  return PkeyPtr(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
}

Status CheckSignatureLength(ByteView signature) {
  if (signature.size() == kEd25519SignatureBytes) return Status::Ok();
  return Corruption("an Ed25519 signature is 64 bytes, got " + std::to_string(signature.size()));
}

// A context ready to verify with `pkey` (null if OpenSSL could not start one). Starting one
// fetches the signature implementation by name.
MdCtxPtr VerifyContext(EVP_PKEY* pkey) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) return nullptr;
  return ctx;
}

// The check itself, on a started context used for this one check (Ed25519 is one-shot), for a
// signature of the right length.
Status VerifyOnce(EVP_MD_CTX* ctx, ByteView message, ByteView signature) {
  if (ctx == nullptr) return Internal("OpenSSL could not start Ed25519 verification");
  if (EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(), message.size()) !=
      1) {
    return Corruption("Ed25519 signature does not verify");
  }
  return Status::Ok();
}

// A copy of a started context (EVP_MD_CTX_copy_ex: an allocation and reference counts, no
// fetch). `started` is only read, as its const parameter promises, so threads copy it at once.
MdCtxPtr CopyOf(const EVP_MD_CTX* started) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), started) != 1) return nullptr;
  return ctx;
}

}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  std::array<uint8_t, kEd25519SeedBytes> seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) std::abort();
  Result<Ed25519PrivateKey> key = FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!key.ok()) std::abort();
  return *key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != kEd25519SeedBytes) {
    return InvalidArgument("an Ed25519 private key seed is 32 bytes, got " +
                           std::to_string(seed.size()));
  }
  PkeyPtr pkey = PrivatePkey(seed);
  if (!pkey) return InvalidArgument("OpenSSL rejected the Ed25519 seed");
  Ed25519PrivateKey key;
  std::memcpy(key.seed_.data(), seed.data(), seed.size());
  size_t len = key.public_key_.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.public_key_.data(), &len) != 1 ||
      len != kEd25519PublicKeyBytes) {
    return Internal("could not derive the Ed25519 public key");
  }
  key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), PkeyFree());
  return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

Ed25519Signature Ed25519PrivateKey::Sign(ByteView message) const {
  assert(pkey_ != nullptr);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature sig;
  size_t len = sig.size();
  // A failure here means a broken OpenSSL or memory exhaustion: nothing sensible to return.
  if (!pkey_ || !ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    std::abort();
  }
  return sig;
}

Result<Ed25519PublicKey> Ed25519PublicKeyFromBytes(ByteView bytes) {
  if (bytes.size() != kEd25519PublicKeyBytes) {
    return InvalidArgument("an Ed25519 public key is 32 bytes, got " +
                           std::to_string(bytes.size()));
  }
  Ed25519PublicKey key;
  std::memcpy(key.data(), bytes.data(), bytes.size());
  return key;
}

Status Ed25519CheckPublicKey(const Ed25519PublicKey& public_key) {
  // sodium_init is idempotent and thread-safe; it only picks the CPU's code paths here.
  static const bool sodium_ready = sodium_init() >= 0;
  if (!sodium_ready) return Internal("libsodium could not start");
  if (crypto_core_ed25519_is_valid_point(public_key.data()) != 1) {
    return InvalidArgument(
        "not a usable Ed25519 public key: a point of small order, outside the curve's "
        "prime-order group, or not encoded canonically (anyone could forge its signatures)");
  }
  return Status::Ok();
}

Status Ed25519Verify(const Ed25519PublicKey& public_key, ByteView message, ByteView signature) {
  FL_RETURN_IF_ERROR(CheckSignatureLength(signature));
  PkeyPtr pkey = PublicPkey(public_key);
  if (!pkey) return Corruption("not a valid Ed25519 public key");
  return VerifyOnce(VerifyContext(pkey.get()).get(), message, signature);
}

Ed25519Verifier::Ed25519Verifier(const Ed25519PublicKey& public_key) : public_key_(public_key) {
  // The started context holds its own reference to OpenSSL's key.
  if (PkeyPtr pkey = PublicPkey(public_key)) started_ = VerifyContext(pkey.get());
}

Status Ed25519Verifier::Verify(ByteView message, ByteView signature) const {
  if (!started_) return Ed25519Verify(public_key_, message, signature);
  FL_RETURN_IF_ERROR(CheckSignatureLength(signature));
  return VerifyOnce(CopyOf(started_.get()).get(), message, signature);
}

}  // namespace fundledger
