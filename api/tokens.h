// Bearer tokens and who they stand for.
//
// The token table is a file in the data directory (`tokens`, mode 0600, owned by the user the
// server runs as: any other file is refused), one JSON object per line:
// {"id", "hash", "actor", "role", "org", "created_ms", "revoked"}. Only the SHA-256 of a token
// is stored; the token itself ("fl_" + 64 hex digits) is shown once, when it is made. Actors
// are normalised (actor_name.h) when written and again when read, so a table written before
// normalisation still names each person one way.
//
// `token add`, `token revoke` and a running server share the file: every change is a
// read-modify-write under the file's exclusive lock (shared_file.h), so a revocation is never
// undone by a concurrent addition. A running server re-reads the file when it changes, so
// both take effect without a restart.
//
// Thread safety: every method may be called from any thread.
//
//   TokenStore store(dir);
//   Result<std::string> token = store.Add("clerk.li", "maker", "");   // print it once
//   Result<Principal> who = store.Authenticate("Bearer fl_...");
#pragma once

#include <string>
#include <vector>

#include "api/shared_file.h"
#include "crypto/mutex.h"
#include "ledger/entry_codec.h"

namespace fundledger {

struct Principal {
  std::string token_id;
  std::string actor;  // normalised (actor_name.h)
  fb::Role role = fb::Role::reader;
  std::string org;  // charity tokens: the organisation whose funds they may touch
};

struct TokenRecord {
  std::string id;    // first 8 hex digits of the hash: a name for the token in lists
  std::string hash;  // SHA-256 of the token, hex
  std::string actor;
  std::string role;
  std::string org;
  int64_t created_ms = 0;
  bool revoked = false;
};

class TokenStore {
 public:
  explicit TokenStore(const std::string& data_dir);

  // Creates a token for `actor` with `role` ("admin", "maker", "checker", "auditor",
  // "charity" with an org, "public"); returns the token text.
  Result<std::string> Add(const std::string& actor, const std::string& role,
                          const std::string& org);
  // Revokes every token of `actor`, or the one whose id is `id_or_actor`. Returns how many.
  Result<int> Revoke(const std::string& id_or_actor);
  Result<std::vector<TokenRecord>> List();
  // From an Authorization header value; unauthenticated when missing, malformed, unknown or
  // revoked.
  Result<Principal> Authenticate(std::string_view authorization);

 private:
  // Which version of the file was read: a rename gives a new inode, a rewrite a new size
  // or time; all four together tell versions apart.
  struct FileVersion {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = -1;
    bool operator==(const FileVersion&) const = default;
  };
  Status Load() FL_REQUIRES(mu_);  // re-reads the file if it changed
  // Checks the file's owner and mode, then applies `change` to its records under the lock.
  Status Update(const std::function<Status(std::vector<TokenRecord>&)>& change);

  SharedFile file_;
  Mutex mu_;
  std::vector<TokenRecord> records_ FL_GUARDED_BY(mu_);
  FileVersion loaded_ FL_GUARDED_BY(mu_);
};

}  // namespace fundledger
