#include "api/random_secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace fundledger {

Result<std::string> RandomSecret(size_t bytes, std::string_view purpose,
                                 const std::function<std::string(ByteView)>& encode) {
  if (bytes == 0 || bytes > kRandomSecretBytesMax) std::abort();
  std::array<uint8_t, kRandomSecretBytesMax> random;
  if (RAND_bytes(random.data(), static_cast<int>(bytes)) != 1) {
    OPENSSL_cleanse(random.data(), bytes);
    return Internal("no randomness for " + std::string(purpose));
  }
  std::string text = encode(ByteView(random.data(), bytes));
  OPENSSL_cleanse(random.data(), bytes);
  return text;
}

}  // namespace fundledger
