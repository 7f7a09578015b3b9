// Staff accounts: people who log in to the console with a name and a password.
//
// The account table is a file in the data directory (`accounts`, mode 0600, owned by the
// server's user, changed only through SharedFile: an exclusive lock, temp file, fsync, rename,
// like the token table), one JSON object per line:
//   {"name", "role", "org", "hash", "disabled", "failures", "locked_until_ms", "created_ms",
//    "enrolling_key", "enrolling_key_ms"}
// `name` is an actor name (actor_name.h); `hash` is the password's Argon2id hash in the PHC
// string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash) from Debian's libargon2; the
// password itself is never stored. After kLoginFailuresMax wrong passwords in a row an account
// is locked for kLockoutMs; a right password after that resets the count. A disabled account
// logs in no one. An unknown name costs the same Argon2id work as a known one. A password that
// could not be checked (out of memory, an unreadable hash) is an error answered as such (503 or
// 500), never "wrong password", and never counts toward the lockout.
// `enrolling_key` is the base64 Ed25519 public key the person's browser made at their last
// first login there (ledger/actor_keys.h): a request to an admin, who registers it in a ledger
// entry or not; it authorises nothing by itself (ledger/README.md, "Threat model").
//
// Thread safety: every method may be called from any thread; processes share the file.
//
//   StaffAccounts accounts(dir);
//   FL_RETURN_IF_ERROR(accounts.Create("clerk.li", "maker", "", "a long passphrase"));
//   Result<Principal> who = accounts.LogIn("clerk.li", "a long passphrase", now_ms);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api/shared_file.h"
#include "api/tokens.h"

namespace fundledger {

inline constexpr int kLoginFailuresMax = 5;
inline constexpr int64_t kLockoutMs = 15 * 60 * 1000;
inline constexpr size_t kPasswordBytesMin = 10;
inline constexpr size_t kPasswordBytesMax = 256;
// Argon2id cost (OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane).
inline constexpr uint32_t kArgon2MemoryKib = 19 * 1024;
inline constexpr uint32_t kArgon2Passes = 2;
inline constexpr uint32_t kArgon2Lanes = 1;
// Argon2id computations at once (each takes kArgon2MemoryKib), and how long one waits for its turn
// before the log-in answers 503.
inline constexpr ptrdiff_t kArgon2ConcurrentMax = 4;
inline constexpr int64_t kArgon2WaitMs = 10'000;

struct StaffAccount {
  std::string name;  // an actor name
  std::string role;  // "admin", "maker", "checker", "auditor", "charity"
  std::string org;   // charity accounts: their organisation
  std::string hash;  // Argon2id, PHC string form
  bool disabled = false;
  int failures = 0;  // wrong passwords in a row
  int64_t locked_until_ms = 0;
  int64_t created_ms = 0;
  std::string enrolling_key;  // base64 public key waiting for an admin; "" none
  int64_t enrolling_key_ms = 0;
};

// Whether `password` is the one `encoded` (Argon2id, PHC form) was made from. An Argon2 failure
// is an error, never a mismatch: 503 (kOverloaded) when the machine could not do it now (memory,
// threads, too many at once), 500 (kCorruption) when the stored hash cannot be read.
Result<bool> PasswordMatches(const std::string& encoded, const std::string& password);

class StaffAccounts {
 public:
  explicit StaffAccounts(const std::string& data_dir);

  Status Create(const std::string& name, const std::string& role, const std::string& org,
                const std::string& password);
  // Sets a new password and unlocks the account.
  Status ResetPassword(const std::string& name, const std::string& password);
  Status SetDisabled(const std::string& name, bool disabled);
  // Records the public key a person's browser made, replacing any earlier request.
  Status SetEnrollingKey(const std::string& name, const std::string& public_key_base64,
                         int64_t now_ms);
  // Every account, without hashes.
  Result<std::vector<StaffAccount>> List() const;
  // The principal of a right password for an enabled, unlocked account; unauthenticated
  // otherwise (the message says when the account is locked or disabled, not whether a name
  // exists). When the password could not be checked (PasswordMatches' errors) that error, and
  // nothing counts toward the lockout.
  Result<Principal> LogIn(const std::string& name, const std::string& password, int64_t now_ms);
  // Whether `name` may still act (exists, not disabled): sessions are checked on each use.
  bool Active(const std::string& name) const;

 private:
  Status Change(const std::string& name, const std::function<Status(StaffAccount&)>& change);

  SharedFile file_;
};

}  // namespace fundledger
