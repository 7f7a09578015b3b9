// `keygen` and `keys register|revoke|require-signing|list`: people's signing keys as files, and
// the admin entries that register them (ledger/actor_keys.h). A key file is the C2SP signer-key
// line of the person's Ed25519 key under their actor name, mode 0600, written with O_EXCL; the
// CLI signs a command with `--signing-key FILE` (post, keys, erase); `sign-request` prints the
// Fundledger-Signature header of an HTTP command for a client such as curl.
//
//   fundledger keygen --out clerk.li.key --actor clerk.li    # prints the key id and public key
//   fundledger keys register --data D --for clerk.li --roles maker --public BASE64
//                            --actor admin.zhao --signing-key admin.key
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace fundledger {

struct KeysFlags {
  std::string dir, action, out;
  std::string actor = "admin", signing_key;  // the admin making the entry, and their key
  std::string for_actor, roles, public_key, key_id, document, reason;
};

struct SignRequestFlags {
  std::string signing_key, origin, role, event, idempotency_key, target, body_file;
};

int CmdKeygen(const std::string& out, const std::string& actor);
// Prints the Fundledger-Signature header's value for `POST target` with the body in body_file
// (none: empty), as the key file's actor in `role` (api/README.md, "Signed requests").
int CmdSignRequest(const SignRequestFlags& flags);
int CmdKeys(const KeysFlags& flags);
// The key in a file written by keygen (its secret-file checks first); null for an empty path.
Result<std::shared_ptr<const ActorSigningKey>> LoadActorSigningKey(const std::string& path);

}  // namespace fundledger
