// Building and reading log entries (the `Entry` table of entry.fbs).
//
// EncodeEntry is called by the log writer only, after it has assigned index, timestamp and
// prev_leaf_hash. DecodeEntry runs the FlatBuffers verifier over every buffer it reads back
// and checks the envelope's own invariants, so no code ever touches an unverified entry.
//
//   Result<EntryView> e = DecodeEntry(stored_bytes);
//   if (!e.ok()) return e.status();         // names what is wrong with the buffer
//   if (e->event_type == fb::EventType::Genesis) ...
//
// An EntryView points into the buffer it was decoded from; keep the buffer alive. Decode
// from 8-byte aligned memory (a Bytes vector is; a RocksDB slice may not be).
#pragma once

#include <string>
#include <string_view>

#include "crypto/ed25519.h"
#include "crypto/note.h"
#include "crypto/sha256.h"
#include "ledger/actor_keys.h"
#include "ledger/entry_generated.h"
#include "ledger/log_format.h"  // kLogFormat, named by the genesis entry

namespace fundledger {

// One entry, envelope included: C2SP tlog-tiles entry bundles prefix each entry with a
// 16-bit length, so an entry is at most 65,535 bytes; large rolls are split into chunks.
inline constexpr size_t kEntryBytesMax = 65'535;
inline constexpr size_t kActorBytesMax = 128;
inline constexpr size_t kPayloadBytesMax = kEntryBytesMax - 1024;  // room for the envelope
inline constexpr size_t kIdempotencyKeyBytesMax = 128;
// The payload starts at a multiple of 8 bytes from the start of its entry, so that, with the
// entry itself in 8-byte aligned memory, the nested FlatBuffer can be read in place.
inline constexpr size_t kPayloadAlignment = 8;

static_assert(kEntryBytesMax <= 0xFFFF, "C2SP entry bundles give each entry a u16 length");
static_assert(kPayloadBytesMax < kEntryBytesMax && kActorBytesMax + kIdempotencyKeyBytesMax < 1024,
              "the envelope's strings fit the room the payload leaves");
static_assert(kPayloadAlignment == alignof(uint64_t), "FlatBuffers read 8-byte fields in place");

// What a submitter provides; the writer adds index, timestamp, prev_leaf_hash and the
// idempotency key of the submission the entry belongs to.
struct NewEntry {
  std::string actor;
  fb::Role role = fb::Role::system;
  fb::EventType event_type = fb::EventType::Unknown;
  Bytes payload;  // a FlatBuffer whose root table is the one event_type names
  // The command's signature (ledger/actor_keys.h); nullopt: unsigned.
  std::optional<EntrySignature> signature = std::nullopt;
};

struct EntryView {
  uint64_t index = 0;
  int64_t timestamp_ms = 0;
  std::string_view actor;
  fb::Role role = fb::Role::system;
  std::string_view idempotency_key;
  Hash prev_leaf_hash{};
  fb::EventType event_type = fb::EventType::Unknown;
  ByteView payload;
  const fb::CommandSignature* signature = nullptr;  // null: unsigned
};

struct GenesisView {
  std::string_view origin;
  Ed25519PublicKey public_key{};
  int64_t created_ms = 0;
  std::string_view format;
};

// Runs the FlatBuffers verifier over a payload of the given type.
Status VerifyPayload(fb::EventType type, ByteView payload);
// Checks the fields a submitter controls: limits, and a payload that verifies as its type.
Status ValidateNewEntry(const NewEntry& entry);

Bytes EncodeEntry(const NewEntry& entry, std::string_view idempotency_key, uint64_t index,
                  int64_t timestamp_ms, const Hash& prev_leaf_hash);
Result<EntryView> DecodeEntry(ByteView bytes);
// DecodeEntry without the FlatBuffers verifier, for bytes that passed DecodeEntry and have not
// changed since: a rebuild applies the entries its verification decoded on another thread.
// REQUIRES: DecodeEntry(bytes) succeeded on these very bytes.
EntryView DecodeVerifiedEntry(ByteView bytes);

Bytes EncodeGenesis(std::string_view origin, const Ed25519PublicKey& public_key,
                    int64_t created_ms);
Result<GenesisView> DecodeGenesis(ByteView payload);
// The log's verifier key as named by its genesis entry (entry 0's stored bytes).
Result<NoteVerifier> GenesisVerifier(ByteView entry0_bytes);

inline constexpr size_t kMemoTextBytesMax = 4096;
struct MemoView {
  std::string_view text;
  std::string_view reference;
};
Bytes EncodeMemo(std::string_view text, std::string_view reference);
Result<MemoView> DecodeMemo(ByteView payload);

// Actor names, as the log stores and the rules compare them. The ledger normalises a name once,
// where entries are built from commands (Ledger::Submit): spaces and tabs around it trimmed,
// ASCII letters folded to lowercase; what remains must be 1..kActorBytesMax characters of
// kActorCharacters, else InvalidArgument naming the field `actor`. The log refuses an entry
// whose actor is not in that form, so "CLERK.LI" and " clerk.li" are the person clerk.li.
inline constexpr std::string_view kActorCharacters = "a-z 0-9 . _ - @";
Result<std::string> NormalizeActorName(std::string_view name);
bool IsNormalActorName(std::string_view name);
// Whether two stored names are one person (also for logs imported from before normalisation).
bool SameActor(std::string_view a, std::string_view b);

std::string_view RoleName(fb::Role role);  // "maker", ...
Result<fb::Role> RoleFromName(std::string_view name);
std::string_view EventTypeName(fb::EventType type);  // "Genesis", ...

}  // namespace fundledger
