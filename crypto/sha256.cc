#include "crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace fundledger {
namespace {

// OpenSSL failing to hash means memory corruption or a broken library: not recoverable.
void CheckOpenSsl(int rc) {
  if (rc != 1) std::abort();
}

// Fetched once: an explicit fetch avoids OpenSSL 3's per-call implicit fetch on the hot path.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) std::abort();
  return md;
}

}  // namespace

Result<Hash> HashFromBytes(ByteView bytes) {
  if (bytes.size() != kHashBytes) {
    return InvalidArgument("hash must be 32 bytes, got " + std::to_string(bytes.size()));
  }
  Hash h;
  std::memcpy(h.data(), bytes.data(), kHashBytes);
  return h;
}

Result<Hash> HashFromHex(std::string_view hex) {
  FL_ASSIGN_OR_RETURN(Bytes bytes, HexDecode(hex));
  return HashFromBytes(bytes);
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  CheckOpenSsl(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr));
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256& Sha256::Update(ByteView bytes) {
  CheckOpenSsl(EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()));
  return *this;
}

Hash Sha256::Finish() {
  Hash out;
  unsigned int len = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(ctx_, out.data(), &len));
  assert(len == kHashBytes);
  CheckOpenSsl(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr));
  return out;
}

Hash Sha256::Digest(ByteView bytes) {
  thread_local Sha256 hasher;  // one context per thread: no allocation per digest
  return hasher.Update(bytes).Finish();
}

}  // namespace fundledger
