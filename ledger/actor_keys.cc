#include "ledger/actor_keys.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>

#include "ledger/entry_codec.h"
#include "ledger/rule_code.h"

namespace fundledger {
namespace {

constexpr size_t kVerifierDepthMax = 16;
constexpr size_t kVerifierTablesMax = 64;

template <typename Table>
const Table* VerifiedRoot(ByteView payload) {
  flatbuffers::Verifier v(payload.data(), payload.size(), kVerifierDepthMax, kVerifierTablesMax);
  if (!v.VerifyBuffer<Table>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<Table>(payload.data());
}

template <typename T>
Bytes Pack(const T& event) {
  flatbuffers::FlatBufferBuilder b(256);
  b.Finish(T::TableType::Pack(b, &event));
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

std::string_view Str(const flatbuffers::String* s) { return s ? s->string_view() : ""; }

bool HasRole(const ActorKeys::Key& k, fb::Role role) {
  return std::find(k.roles.begin(), k.roles.end(), role) != k.roles.end();
}

// The batch an approval or rejection names (empty for any other entry).
std::string_view DecidedBatch(const SignedEntryView& e) {
  if (e.event_type == fb::EventType::DisbursementBatchApproved) {
    auto* a = VerifiedRoot<fb::DisbursementBatchApproved>(e.payload);
    return a ? Str(a->batch_id()) : "";
  }
  if (e.event_type == fb::EventType::DisbursementBatchRejected) {
    auto* r = VerifiedRoot<fb::DisbursementBatchRejected>(e.payload);
    return r ? Str(r->batch_id()) : "";
  }
  return "";
}

// Whether "METHOD /a/b/c" has `segment` as one of its path's segments.
bool PathNames(std::string_view request, std::string_view segment) {
  size_t space = request.find(' ');
  if (space == std::string_view::npos || segment.empty()) return false;
  std::string_view path = request.substr(space + 1);
  path = path.substr(0, path.find('?'));
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == segment) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string ActorKeyId(const Ed25519PublicKey& public_key) {
  Hash h = Sha256::Digest(ByteView(public_key.data(), public_key.size()));
  return HexEncode(ByteView(h.data(), kKeyIdHexChars / 2));
}

std::string SignedCommandMessage(std::string_view origin, fb::EventType first_type,
                                 std::string_view actor, fb::Role role,
                                 std::string_view idempotency_key, std::string_view request,
                                 const Hash& body_sha256) {
  std::string m;
  m.reserve(256);
  m.append(kSignedCommandVersion).append("\n");
  m.append(origin).append("\n");
  m.append(EventTypeName(first_type)).append("\n");
  m.append(actor).append(" ").append(RoleName(role)).append("\n");
  m.append(idempotency_key).append("\n");
  m.append(request).append("\n");
  m.append(HashHex(body_sha256)).append("\n");
  return m;
}

void CommandPayloadsDigest::Add(fb::EventType type, ByteView payload) {
  uint8_t head[6];
  uint16_t t = static_cast<uint16_t>(type);
  head[0] = static_cast<uint8_t>(t >> 8);
  head[1] = static_cast<uint8_t>(t);
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int k = 0; k < 4; ++k) head[2 + k] = static_cast<uint8_t>(n >> (24 - 8 * k));
  sha_.Update(ByteView(head, sizeof head)).Update(payload);
}

Result<std::optional<EntrySignature>> DecodeEntrySignature(const fb::CommandSignature* s) {
  if (s == nullptr) return std::optional<EntrySignature>();
  EntrySignature out;
  out.key_id = std::string(Str(s->key_id()));
  out.request = std::string(Str(s->request()));
  out.part = s->part();
  out.parts = s->parts();
  if (s->signature() == nullptr || s->signature()->size() != kEd25519SignatureBytes)
    return Corruption("the entry's signature is not 64 bytes");
  std::memcpy(out.signature.data(), s->signature()->data(), kEd25519SignatureBytes);
  if (s->body_sha256() == nullptr || s->body_sha256()->size() != kHashBytes)
    return Corruption("the entry's signed body digest is not 32 bytes");
  std::memcpy(out.body_sha256.data(), s->body_sha256()->data(), kHashBytes);
  if (out.parts == 0 || out.part >= out.parts)
    return Corruption("the entry's signature names part " + std::to_string(out.part) + " of " +
                      std::to_string(out.parts));
  if (out.request.empty() || out.request.size() > kSignedRequestBytesMax)
    return Corruption("the entry's signed request is empty or longer than 512 bytes");
  return std::optional<EntrySignature>(std::move(out));
}

bool IsKeyEvent(fb::EventType type) {
  return type == fb::EventType::ActorKeyRegistered || type == fb::EventType::ActorKeyRevoked ||
         type == fb::EventType::SigningRequired;
}

Bytes EncodeKeyRegistered(const fb::ActorKeyRegisteredT& e) { return Pack(e); }
Bytes EncodeKeyRevoked(const fb::ActorKeyRevokedT& e) { return Pack(e); }
Bytes EncodeSigningRequired(const fb::SigningRequiredT& e) { return Pack(e); }

Status VerifyKeyEventPayload(fb::EventType type, ByteView payload) {
  std::string what(EventTypeName(type));
  if (type == fb::EventType::ActorKeyRegistered) {
    auto* r = VerifiedRoot<fb::ActorKeyRegistered>(payload);
    if (r == nullptr) return InvalidArgument(what + " payload is not a valid " + what);
    if (r->public_key() == nullptr || r->public_key()->size() != kEd25519PublicKeyBytes)
      return InvalidArgument("public_key must be 32 bytes (Ed25519)").WithField("public_key");
    if (!IsNormalActorName(Str(r->actor())))
      return InvalidArgument("actor must be a normalised actor name").WithField("actor");
    if (r->roles() == nullptr || r->roles()->size() == 0 || r->roles()->size() > 8)
      return InvalidArgument("a key holds 1..8 roles").WithField("roles");
    for (auto role : *r->roles()) {
      auto named = RoleFromName(RoleName(static_cast<fb::Role>(role)));
      if (!named.ok() || static_cast<fb::Role>(role) == fb::Role::system)
        return InvalidArgument("a key's roles are admin, maker, checker, auditor or charity")
            .WithField("roles");
    }
    return Status::Ok();
  }
  if (type == fb::EventType::ActorKeyRevoked) {
    auto* r = VerifiedRoot<fb::ActorKeyRevoked>(payload);
    if (r == nullptr) return InvalidArgument(what + " payload is not a valid " + what);
    if (Str(r->key_id()).size() != kKeyIdHexChars)
      return InvalidArgument("key_id must be 16 hex digits").WithField("key_id");
    return Status::Ok();
  }
  if (type == fb::EventType::SigningRequired) {
    if (VerifiedRoot<fb::SigningRequired>(payload) == nullptr)
      return InvalidArgument(what + " payload is not a valid " + what);
    return Status::Ok();
  }
  return InvalidArgument(what + " is not a key event").WithField("event_type");
}

Status ActorKeys::CheckKeyEvent(const SignedEntryView& e) const {
  if (e.role != fb::Role::admin)
    return RuleError(RuleCode::kAdminOnly,
                     std::string(EventTypeName(e.event_type)) + " is an admin's entry", "role");
  if (e.event_type == fb::EventType::ActorKeyRegistered) {
    auto* r = VerifiedRoot<fb::ActorKeyRegistered>(e.payload);
    Ed25519PublicKey pk{};
    std::memcpy(pk.data(), r->public_key()->data(), pk.size());
    std::string id = ActorKeyId(pk);
    if (Str(r->key_id()) != id)
      return RuleError(RuleCode::kBadSignature,
                       "key_id '" + std::string(Str(r->key_id())) + "' is not the key's id " + id,
                       "key_id");
    if (Status usable = Ed25519CheckPublicKey(pk); !usable.ok())
      return RuleError(RuleCode::kWeakKey, "key " + id + " is " + usable.message(), "public_key");
    if (keys_.count(id) != 0)
      return RuleError(RuleCode::kDuplicateKey,
                       "key " + id + " is already registered to " + keys_.at(id).actor,
                       "public_key");
    return Status::Ok();
  }
  if (e.event_type == fb::EventType::ActorKeyRevoked) {
    auto* r = VerifiedRoot<fb::ActorKeyRevoked>(e.payload);
    auto it = keys_.find(std::string(Str(r->key_id())));
    if (it == keys_.end())
      return RuleError(RuleCode::kUnknownKey,
                       "key " + std::string(Str(r->key_id())) + " is not registered", "key_id");
    if (it->second.revoked_index)
      return RuleError(RuleCode::kKeyRevoked, "key " + it->first + " is already revoked", "key_id");
    return Status::Ok();
  }
  if (required_from_)
    return RuleError(RuleCode::kSigningAlreadyRequired,
                     "signing is required since entry " + std::to_string(*required_from_));
  bool admin_key = std::any_of(keys_.begin(), keys_.end(), [](const auto& k) {
    return !k.second.revoked_index && HasRole(k.second, fb::Role::admin);
  });
  if (!admin_key)
    return RuleError(RuleCode::kNoAdminKey,
                     "register an admin's key first: with signing required, only a signed "
                     "admin command can register keys");
  return Status::Ok();
}

Status ActorKeys::CheckUnsigned(const SignedEntryView& e) const {
  if (!required_from_ || e.event_type == fb::EventType::Genesis) return Status::Ok();
  return RuleError(RuleCode::kSignatureRequired,
                   std::string(EventTypeName(e.event_type)) + " by " + std::string(e.actor) +
                       " is not signed; the ledger requires signed commands since entry " +
                       std::to_string(*required_from_));
}

Status ActorKeys::CheckSigner(std::string_view origin, const SignedEntryView& first,
                              const EntrySignature& sig) const {
  auto it = keys_.find(sig.key_id);
  if (it == keys_.end())
    return RuleError(RuleCode::kUnknownKey, "key " + sig.key_id + " is not registered", "key_id");
  const Key& key = it->second;
  if (key.revoked_index)
    return RuleError(
        RuleCode::kKeyRevoked,
        "key " + sig.key_id + " was revoked at entry " + std::to_string(*key.revoked_index),
        "key_id");
  if (!SameActor(key.actor, first.actor))
    return RuleError(
        RuleCode::kUnknownKey,
        "key " + sig.key_id + " is " + key.actor + "'s, not " + std::string(first.actor) + "'s",
        "key_id");
  if (!HasRole(key, first.role))
    return RuleError(RuleCode::kKeyNotForRole,
                     "key " + sig.key_id + " is not registered for the role " +
                         std::string(RoleName(first.role)),
                     "role");
  std::string message = SignedCommandMessage(origin, first.event_type, first.actor, first.role,
                                             first.idempotency_key, sig.request, sig.body_sha256);
  if (!key.verifier.Verify(AsBytes(message), sig.signature).ok())
    return RuleError(RuleCode::kBadSignature,
                     "the signature by key " + sig.key_id + " does not verify over this command",
                     "signature");
  return Status::Ok();
}

Status ActorKeys::CheckEntryBinding(const SignedEntryView& e, const EntrySignature& sig) const {
  std::string_view batch = DecidedBatch(e);
  if (batch.empty()) return Status::Ok();
  if (sig.request != kPayloadsRequest && !PathNames(sig.request, batch))
    return RuleError(
        RuleCode::kBadSignature,
        "the signed request '" + sig.request + "' does not name batch " + std::string(batch),
        "signature");
  if (e.event_type != fb::EventType::DisbursementBatchApproved) return Status::Ok();
  if (!HasRole(keys_.at(sig.key_id), fb::Role::checker))
    return RuleError(
        RuleCode::kKeyNotForRole,
        "an approval is signed with a checker's key; key " + sig.key_id + " is not one", "role");
  auto maker = batch_signers_.find(std::string(batch));
  if (maker != batch_signers_.end() && maker->second == sig.key_id)
    return RuleError(RuleCode::kCheckerKeyIsMakers,
                     "batch " + std::string(batch) + " was prepared with key " + sig.key_id +
                         ": another checker's key must approve it",
                     "signature");
  return Status::Ok();
}

Status ActorKeys::CheckCommand(std::string_view origin,
                               std::span<const SignedEntryView> command) const {
  if (command.empty()) return Status::Ok();
  const EntrySignature* sig = command.front().signature;
  for (size_t k = 0; k < command.size(); ++k) {
    const SignedEntryView& e = command[k];
    if ((e.signature == nullptr) != (sig == nullptr))
      return RuleError(RuleCode::kBadSignature, "a command is signed on all its entries or none");
    if (sig == nullptr) {
      FL_RETURN_IF_ERROR(CheckUnsigned(e));
      continue;
    }
    if (!e.signature->SameCommand(*sig) || e.signature->part != k || sig->parts != command.size() ||
        !SameActor(e.actor, command.front().actor) || e.role != command.front().role)
      return RuleError(RuleCode::kBadSignature,
                       "the entries of one command carry one signature, parts 0.." +
                           std::to_string(command.size() - 1));
  }
  if (sig == nullptr) return Status::Ok();
  FL_RETURN_IF_ERROR(CheckSigner(origin, command.front(), *sig));
  if (sig->request == kPayloadsRequest) {
    CommandPayloadsDigest digest;
    for (const SignedEntryView& e : command) digest.Add(e.event_type, e.payload);
    if (digest.Finish() != sig->body_sha256)
      return RuleError(RuleCode::kBadSignature,
                       "the signed digest of the payloads is not that of these entries",
                       "signature");
  }
  for (const SignedEntryView& e : command) FL_RETURN_IF_ERROR(CheckEntryBinding(e, *sig));
  return Status::Ok();
}

void ActorKeys::Apply(const SignedEntryView& e, uint64_t index, UndoLog* undo) {
  if (e.event_type == fb::EventType::DisbursementBatchPrepared && e.signature != nullptr) {
    auto* p = VerifiedRoot<fb::DisbursementBatchPrepared>(e.payload);
    std::string batch(p ? Str(p->batch_id()) : "");
    if (batch.empty() || batch_signers_.count(batch) != 0) return;
    batch_signers_[batch] = e.signature->key_id;
    if (undo) undo->Push([this, batch] { batch_signers_.erase(batch); });
    return;
  }
  if (e.event_type == fb::EventType::ActorKeyRegistered) {
    auto* r = VerifiedRoot<fb::ActorKeyRegistered>(e.payload);
    if (r == nullptr || r->public_key() == nullptr || r->public_key()->size() != 32) return;
    Key key;
    key.actor = std::string(Str(r->actor()));
    if (r->roles() != nullptr)
      for (auto role : *r->roles()) key.roles.push_back(static_cast<fb::Role>(role));
    Ed25519PublicKey public_key{};
    std::memcpy(public_key.data(), r->public_key()->data(), public_key.size());
    key.verifier = public_key;
    key.registered_index = index;
    std::string id = ActorKeyId(public_key);  // never the recorded id: it may lie
    if (keys_.count(id) != 0) return;         // an imported log's second registration
    keys_.emplace(id, std::move(key));
    if (undo) undo->Push([this, id] { keys_.erase(id); });
    return;
  }
  if (e.event_type == fb::EventType::ActorKeyRevoked) {
    auto* r = VerifiedRoot<fb::ActorKeyRevoked>(e.payload);
    auto it = r ? keys_.find(std::string(Str(r->key_id()))) : keys_.end();
    if (it == keys_.end() || it->second.revoked_index) return;
    it->second.revoked_index = index;
    if (undo) undo->Push([k = &it->second] { k->revoked_index.reset(); });
    return;
  }
  if (e.event_type == fb::EventType::SigningRequired && !required_from_) {
    required_from_ = index + 1;
    if (undo) undo->Push([this] { required_from_.reset(); });
  }
}

void ActorKeys::Restore(std::map<std::string, Key> keys, std::optional<uint64_t> required_from,
                        std::map<std::string, std::string> batch_signers) {
  keys_ = std::move(keys);
  required_from_ = required_from;
  batch_signers_ = std::move(batch_signers);
}

Status SignatureWalk::Check(uint64_t index, const SignedEntryView& e) {
  const EntrySignature* sig = e.signature;
  if (open_) {
    // The next part of the open command, and nothing else, may follow.
    uint32_t want = static_cast<uint32_t>(index - open_first_);
    if (sig == nullptr || !sig->SameCommand(*open_) || sig->part != want ||
        !SameActor(e.actor, open_actor_) || e.role != open_role_ || e.idempotency_key != open_key_)
      return Corruption("entry " + std::to_string(index) + " should be part " +
                        std::to_string(want) + " of the command signed at entry " +
                        std::to_string(open_first_));
  } else if (sig == nullptr) {
    FL_RETURN_IF_ERROR(keys_.CheckUnsigned(e));
  } else {
    if (sig->part != 0)
      return Corruption("part " + std::to_string(sig->part) +
                        " of a signed command without the parts before it");
    if (!seen_.insert(sig->signature).second)
      return Corruption("its signature by key " + sig->key_id +
                        " is a copy of an earlier command's");
    FL_RETURN_IF_ERROR(keys_.CheckSigner(origin_, e, *sig));
    open_ = *sig;
    open_first_ = index;
    open_actor_ = std::string(e.actor);
    open_key_ = std::string(e.idempotency_key);
    open_role_ = e.role;
  }
  if (sig != nullptr) {
    FL_RETURN_IF_ERROR(keys_.CheckEntryBinding(e, *sig));
    if (sig->request == kPayloadsRequest) open_digest_.Add(e.event_type, e.payload);
    if (sig->part + 1 == sig->parts) {
      bool digest_ok =
          sig->request != kPayloadsRequest || open_digest_.Finish() == sig->body_sha256;
      open_.reset();
      if (!digest_ok)
        return Corruption("the signed digest of the payloads (key " + sig->key_id +
                          ") is not that of the command's entries");
    }
  }
  if (IsKeyEvent(e.event_type) && e.role != fb::Role::admin)
    return Corruption(std::string(EventTypeName(e.event_type)) + " is not an admin's entry");
  keys_.Apply(e, index, nullptr);
  return Status::Ok();
}

Status SignatureWalk::Finish(uint64_t size) const {
  if (!open_) return Status::Ok();
  return Corruption("the command signed at entry " + std::to_string(open_first_) + " has " +
                    std::to_string(open_->parts) + " parts but the log ends at " +
                    std::to_string(size));
}

}  // namespace fundledger
