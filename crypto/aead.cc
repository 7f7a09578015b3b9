#include "crypto/aead.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

namespace fundledger {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

}  // namespace

AeadKey RandomAeadKey() {
  AeadKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  return key;
}

Result<Bytes> AeadSeal(const AeadKey& key, ByteView plaintext, ByteView ad) {
  Bytes box(kAeadNonceBytes + plaintext.size() + kAeadTagBytes);
  if (RAND_bytes(box.data(), kAeadNonceBytes) != 1) return Internal("no randomness for a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), box.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), box.data() + kAeadNonceBytes, &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), box.data() + kAeadNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagBytes,
                          box.data() + kAeadNonceBytes + plaintext.size()) != 1) {
    return Internal("AES-256-GCM encryption failed");
  }
  return box;
}

Result<Bytes> AeadOpen(const AeadKey& key, ByteView box, ByteView ad) {
  if (box.size() < kAeadNonceBytes + kAeadTagBytes) return Corruption("sealed box is too short");
  size_t text_len = box.size() - kAeadNonceBytes - kAeadTagBytes;
  Bytes plain(text_len);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  Bytes tag(box.end() - kAeadTagBytes, box.end());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), box.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, box.data() + kAeadNonceBytes, static_cast<int>(text_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) != 1) {
    return Corruption("sealed box does not open (wrong key, or altered)");
  }
  return plain;
}

Hash HmacSha256(ByteView key, ByteView message) {
  Hash out;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), out.data(), &len) ==
          nullptr ||
      len != kHashBytes) {
    std::abort();
  }
  return out;
}

}  // namespace fundledger
