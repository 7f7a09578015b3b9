// A secret made of fresh random bytes: a bearer token, a console session id or its CSRF token, a
// demo account's password. RandomSecret draws `bytes` bytes from OpenSSL's CSPRNG (RAND_bytes),
// turns them into text with `encode`, and wipes them (OPENSSL_cleanse) before it returns, so the
// raw bytes never outlive the call; the text is the caller's to keep and to wipe. A failed draw is
// an Internal error naming `purpose` ("no randomness for a session"). `bytes` is the caller's
// constant, 1 to kRandomSecretBytesMax: any other count is a programming error and stops the
// program.
//
// Thread safety: may be called from any thread (RAND_bytes is thread-safe).
//
//   FL_ASSIGN_OR_RETURN(std::string id, RandomSecret(32, "a session", HexEncode));
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "crypto/encoding.h"
#include "crypto/status.h"

namespace fundledger {

inline constexpr size_t kRandomSecretBytesMax = 64;  // twice the largest secret the API makes

Result<std::string> RandomSecret(size_t bytes, std::string_view purpose,
                                 const std::function<std::string(ByteView)>& encode);

}  // namespace fundledger
