// ActorKeys: who may sign commands, and the rule that every command on a signing ledger is
// signed by its actor's current key. The registry is part of the domain state (rebuilt by
// replay, saved by the state codec); the same checks run when a command is staged (refusing it
// with a RuleCode) and when a log is verified entry by entry (naming the entry at fault).
//
// Keys. An admin registers a person's Ed25519 key in an `ActorKeyRegistered` entry (key id,
// actor, roles, public key) and revokes it in an `ActorKeyRevoked` entry; a key id is the first
// 8 bytes of SHA-256 of the public key in lowercase hex (ActorKeyId), so it names one key. A
// public key is registered once, to one actor. `SigningRequired` (an admin's entry, once)
// turns signing on: from the next entry on, every entry but the genesis must be signed. It is
// an entry, not a property of `init`, because logs from before signing must keep verifying,
// and because the first admin key has to be registered before anyone can sign; a verifier
// reads from the log itself from which index on signatures are required, and nothing turns it
// off. Entries before it are unsigned by design (as is the genesis, role `system`).
//
// The signed message (what the actor's key signs), lines ending in "\n":
//
//   fundledger-command/v1
//   <origin>                 the log's origin (its checkpoint name): no other log accepts it
//   <event type>             of the command's first entry ("DisbursementBatchApproved")
//   <actor> <role>           the entry's actor and role ("checker.wang checker")
//   <idempotency key>        the command's
//   <request>                "POST /v1/disbursement-batches/B1/approve" (HTTP), or "payloads"
//   <body sha256>            64 lowercase hex digits
//
// Two ways to sign, recorded in CommandSignature.request (entry.fbs):
//   - "payloads" (the CLI's `--signing-key`, the demo city, any in-process signer): the body
//     digest is SHA-256 over the command's entries, each as u16 event type, u32 payload length
//     (big-endian) and the payload bytes (CommandPayloadsDigest). A verifier recomputes it, so
//     the signature binds every byte of every entry's payload.
//   - an HTTP request (the staff console's WebCrypto key, tests/http_client): the body digest
//     is SHA-256 of the exact request body; the request line is the method and path. A browser
//     produces it with crypto.subtle (digest, then sign). The body is not kept (a roll is up to
//     256 MiB, a registration holds personal data), so a verifier checks the signature, the
//     actor, role, type and origin it binds, and for approvals and rejections that the signed
//     path names the entry's batch; the signer keeps their body to prove its content.
//
// A command of several entries (a roll's chunks, many registrations) carries one signature on
// every entry, with part k of n; its entries are consecutive and the signature appears on no
// other entry of the log (a verifier checks it: a signed command cannot be copied). An approval
// must be signed by a key holding `checker` other than the one that signed the roll.
//
// Thread safety: none; the domain's gate guards the registry, a verifier owns its own.
//
//   ActorKeys keys;
//   FL_RETURN_IF_ERROR(keys.CheckCommand(origin, entries));   // staging: a RuleCode
//   keys.Apply(entry, index, undo);                            // staging and replay
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/sha256.h"
#include "ledger/effects.h"
#include "ledger/entry_generated.h"

namespace fundledger {

inline constexpr std::string_view kSignedCommandVersion = "fundledger-command/v1";
inline constexpr std::string_view kPayloadsRequest = "payloads";
inline constexpr size_t kKeyIdHexChars = 16;
inline constexpr size_t kSignedRequestBytesMax = 512;
static_assert(kKeyIdHexChars % 2 == 0 && kKeyIdHexChars / 2 <= kHashBytes);

// A command's signature as a submitter gives it and an entry records it.
struct EntrySignature {
  std::string key_id;
  Ed25519Signature signature{};
  std::string request;  // kPayloadsRequest, or "METHOD /path"
  Hash body_sha256{};
  uint32_t part = 0;
  uint32_t parts = 1;
  bool SameCommand(const EntrySignature& o) const {
    return key_id == o.key_id && signature == o.signature && request == o.request &&
           body_sha256 == o.body_sha256 && parts == o.parts;
  }
};

// What the signature rules read of one entry (staged or stored).
struct SignedEntryView {
  std::string_view actor;
  fb::Role role = fb::Role::system;
  fb::EventType event_type = fb::EventType::Unknown;
  std::string_view idempotency_key;
  ByteView payload;
  const EntrySignature* signature = nullptr;  // null: unsigned
};

std::string ActorKeyId(const Ed25519PublicKey& public_key);
std::string SignedCommandMessage(std::string_view origin, fb::EventType first_type,
                                 std::string_view actor, fb::Role role,
                                 std::string_view idempotency_key, std::string_view request,
                                 const Hash& body_sha256);
// The body digest of a "payloads" signature, fed the command's entries in order.
class CommandPayloadsDigest {
 public:
  void Add(fb::EventType type, ByteView payload);
  Hash Finish() { return sha_.Finish(); }

 private:
  Sha256 sha_;
};

// The entry's recorded signature, or nullopt when it carries none; a malformed one is an error.
Result<std::optional<EntrySignature>> DecodeEntrySignature(const fb::CommandSignature* s);

// Key events: payload bytes of ActorKeyRegistered / ActorKeyRevoked / SigningRequired.
bool IsKeyEvent(fb::EventType type);
Bytes EncodeKeyRegistered(const fb::ActorKeyRegisteredT& e);
Bytes EncodeKeyRevoked(const fb::ActorKeyRevokedT& e);
Bytes EncodeSigningRequired(const fb::SigningRequiredT& e);
// The FlatBuffers verifier and the fields a key event must have (InvalidArgument naming one).
Status VerifyKeyEventPayload(fb::EventType type, ByteView payload);

class ActorKeys {
 public:
  struct Key {
    std::string actor;
    std::vector<fb::Role> roles;
    Ed25519Verifier verifier;  // the key, parsed once for all the commands it signs
    uint64_t registered_index = 0;
    std::optional<uint64_t> revoked_index;
  };

  // The rules of a key event (staging): an admin's, a key id that is its key's, a key not
  // registered before, a known key to revoke. A RuleCode error naming the field.
  Status CheckKeyEvent(const SignedEntryView& e) const;
  // The signature rules of one command (its entries in order) against the keys of now.
  Status CheckCommand(std::string_view origin, std::span<const SignedEntryView> command) const;
  // Applies an entry's part in the registry: key events, and which key signed a roll.
  void Apply(const SignedEntryView& e, uint64_t index, UndoLog* undo);

  bool signing_required() const { return required_from_.has_value(); }
  std::optional<uint64_t> required_from() const { return required_from_; }
  const std::map<std::string, Key>& keys() const { return keys_; }
  // The key that signed the preparation of each roll prepared while signing was on.
  const std::map<std::string, std::string>& batch_signers() const { return batch_signers_; }

  // For the state codec (domain_state_codec.h).
  void Restore(std::map<std::string, Key> keys, std::optional<uint64_t> required_from,
               std::map<std::string, std::string> batch_signers);

 private:
  friend class SignatureWalk;
  // An unsigned entry: allowed before SigningRequired, and for the genesis.
  Status CheckUnsigned(const SignedEntryView& e) const;
  // The key (current, the actor's, holding the role) and the signature over the message.
  Status CheckSigner(std::string_view origin, const SignedEntryView& first,
                     const EntrySignature& sig) const;
  // What an entry's own content asks of its signature (approvals and rejections).
  Status CheckEntryBinding(const SignedEntryView& e, const EntrySignature& sig) const;

  std::map<std::string, Key> keys_;  // by key id
  std::optional<uint64_t> required_from_;
  std::map<std::string, std::string> batch_signers_;  // batch id -> key id
};

// Checks a log's signatures entry by entry, in order, from entry 0 (verify, replay, audit
// verify): the rules of ActorKeys, a command's entries consecutive, no signature on two
// commands. Check returns why entry `index` fails (a message naming the entry's problem).
class SignatureWalk {
 public:
  explicit SignatureWalk(std::string origin) : origin_(std::move(origin)) {}
  // `e` is the decoded entry (its actor, role, type, key, payload) with its recorded signature.
  Status Check(uint64_t index, const SignedEntryView& e);
  // The command still open at the end of the log, if any, is incomplete.
  Status Finish(uint64_t size) const;
  const ActorKeys& keys() const { return keys_; }

 private:
  std::string origin_;
  ActorKeys keys_;
  // The command whose entries are being read: its signature, whose, and its digest so far.
  std::optional<EntrySignature> open_;
  uint64_t open_first_ = 0;
  std::string open_actor_, open_key_;
  fb::Role open_role_ = fb::Role::system;
  CommandPayloadsDigest open_digest_;
  std::set<Ed25519Signature> seen_;  // every signature read so far: 64 bytes per command
};

}  // namespace fundledger
