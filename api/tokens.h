// Bearer tokens and who they stand for.
//
// The token table is a file in the data directory (`tokens`, mode 0600), one JSON object per
// line: {"id", "hash", "actor", "role", "org", "created_ms", "revoked"}. Only the SHA-256 of
// a token is stored; the token itself ("fl_" + 64 hex digits) is shown once, when it is made.
// A running server re-reads the file when it changes, so `fundledger token add` and
// `token revoke` take effect without a restart.
//
//   TokenStore store(dir);
//   Result<std::string> token = store.Add("clerk.li", "maker", "");   // print it once
//   Result<Principal> who = store.Authenticate("Bearer fl_...");
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/entry_codec.h"

namespace fundledger {

struct Principal {
  std::string token_id;
  std::string actor;
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
  explicit TokenStore(std::string data_dir);

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
  Status Load();  // re-reads the file if it changed
  Status Save(const std::vector<TokenRecord>& records);

  std::string path_;
  std::mutex mu_;
  std::vector<TokenRecord> records_;
  int64_t loaded_mtime_ns_ = -1;
};

}  // namespace fundledger
