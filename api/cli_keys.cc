#include "api/cli_keys.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "api/actor_name.h"
#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "crypto/key_file.h"

namespace fundledger {
namespace {

Result<std::vector<fb::Role>> ParseRoles(const std::string& text) {
  std::vector<fb::Role> roles;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    Result<fb::Role> role = RoleFromName(text.substr(start, comma - start));
    if (!role.ok()) return Status(role.status()).WithField("roles");
    roles.push_back(*role);
    start = comma + 1;
  }
  return roles;
}

int ListKeys(const std::string& dir) {
  Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  return opened->ledger->domain().Read([](const DomainState& s) {
    std::optional<uint64_t> from = s.keys.required_from();
    fmt::print("signing required: {}\n", from ? "from entry " + std::to_string(*from) : "no");
    for (const auto& [id, k] : s.keys.keys()) {
      std::string roles;
      for (fb::Role r : k.roles) roles += (roles.empty() ? "" : ",") + std::string(RoleName(r));
      fmt::print("{}\t{}\t{}\tregistered at {}{}\n", id, k.actor, roles, k.registered_index,
                 k.revoked_index ? ", revoked at " + std::to_string(*k.revoked_index) : "");
    }
    return 0;
  });
}

}  // namespace

Result<std::shared_ptr<const ActorSigningKey>> LoadActorSigningKey(const std::string& path) {
  if (path.empty()) return std::shared_ptr<const ActorSigningKey>();
  FL_RETURN_IF_ERROR(CheckSecretFile(path, "the signing key"));
  FL_ASSIGN_OR_RETURN(NoteSigner signer, ReadSignerKeyFile(path));
  return std::make_shared<const ActorSigningKey>(
      ActorSigningKey{ActorKeyId(signer.key.public_key()), signer.key});
}

int CmdKeygen(const std::string& out, const std::string& actor_text) {
  Result<std::string> actor = NormalizeActor(actor_text, "actor");
  if (!actor.ok()) return ExitFailure(actor.status());
  Result<NoteSigner> signer = MakeNoteSigner(*actor, Ed25519PrivateKey::Generate());
  if (!signer.ok()) return ExitFailure(signer.status());
  if (Status written = WriteSignerKeyFile(out, *signer); !written.ok()) return ExitFailure(written);
  const Ed25519PublicKey& pk = signer->key.public_key();
  fmt::print("key id {}\npublic key {}\n", ActorKeyId(pk),
             Base64Encode(ByteView(pk.data(), pk.size())));
  return 0;
}

int CmdSignRequest(const SignRequestFlags& f) {
  if (Status secret = CheckSecretFile(f.signing_key, "the signing key"); !secret.ok())
    return ExitFailure(secret);
  Result<NoteSigner> signer = ReadSignerKeyFile(f.signing_key);
  if (!signer.ok()) return ExitFailure(signer.status());
  Result<fb::Role> role = RoleFromName(f.role);
  if (!role.ok()) return ExitFailure(Status(role.status()).WithField("role"));
  fb::EventType type = fb::EventType::Unknown;
  for (fb::EventType t : fb::EnumValuesEventType()) {
    if (f.event == fb::EnumNameEventType(t)) type = t;
  }
  if (type == fb::EventType::Unknown)
    return ExitFailure(InvalidArgument("'" + f.event +
                                       "' is not an event type: the route's x-event in "
                                       "/v1/openapi.json names it")
                           .WithField("event"));
  std::string body;
  if (!f.body_file.empty()) {
    std::ifstream in(f.body_file, std::ios::binary);
    if (!in) return ExitFailure(NotFound("cannot read " + f.body_file).WithField("body"));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    body = bytes.str();
  }
  std::string message = SignedCommandMessage(f.origin, type, signer->name, *role, f.idempotency_key,
                                             "POST " + f.target, Sha256::Digest(AsBytes(body)));
  Ed25519Signature sig = signer->key.Sign(AsBytes(message));
  fmt::print("{}:{}\n", ActorKeyId(signer->key.public_key()),
             Base64Encode(ByteView(sig.data(), sig.size())));
  return 0;
}

int CmdKeys(const KeysFlags& f) {
  if (f.action == "list") return ListKeys(f.dir);
  Result<std::string> actor = NormalizeActor(f.actor, "actor");
  if (!actor.ok()) return ExitFailure(actor.status());
  Result<std::shared_ptr<const ActorSigningKey>> key = LoadActorSigningKey(f.signing_key);
  if (!key.ok()) return ExitFailure(key.status());
  Actor admin{*actor, fb::Role::admin, *key};
  Result<OpenedLedger> opened = OpenLedgerForWrite(f.dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  Ledger& ledger = *opened->ledger;
  Result<AppendResult> r = InvalidArgument(
      "keys takes register, revoke, require-signing or list, not '" + f.action + "'");
  if (f.action == "register") {
    Result<std::vector<fb::Role>> roles = ParseRoles(f.roles);
    if (!roles.ok()) return ExitFailure(roles.status());
    Result<Bytes> pk = Base64Decode(f.public_key);
    if (!pk.ok() || pk->size() != kEd25519PublicKeyBytes)
      return ExitFailure(InvalidArgument("--public must be the base64 public key keygen printed")
                             .WithField("public"));
    Ed25519PublicKey public_key{};
    std::copy(pk->begin(), pk->end(), public_key.begin());
    r = ledger.RegisterKey(admin, "key:" + ActorKeyId(public_key), f.for_actor, *roles, public_key,
                           f.document);
  } else if (f.action == "revoke") {
    r = ledger.RevokeKey(admin, "revoke:" + f.key_id, f.key_id, f.reason);
  } else if (f.action == "require-signing") {
    r = ledger.RequireSigning(admin, "require-signing", f.document);
  }
  if (!r.ok()) return ExitFailure(r.status());
  fmt::print("{} entry {}\n", r->replayed ? "already appended as" : "appended", r->first_index);
  Status closed = ledger.Close();
  return closed.ok() ? 0 : ExitFailure(closed);
}

}  // namespace fundledger
