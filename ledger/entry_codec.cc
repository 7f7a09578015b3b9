#include "ledger/entry_codec.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "ledger/events.h"

namespace fundledger {
namespace {

constexpr size_t kVerifierDepthMax = 64;
constexpr size_t kVerifierTablesMax = 1'000'000;

template <typename Table>
bool VerifyTable(ByteView bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierDepthMax, kVerifierTablesMax);
  return verifier.VerifyBuffer<Table>(nullptr);
}

// FlatBuffers stores any number of the enum's type: a role is one the schema names.
bool IsSchemaRole(fb::Role role) {
  for (fb::Role r : fb::EnumValuesRole()) {
    if (r == role) return true;
  }
  return false;
}

bool IsActorCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '@';
}

std::string FoldActor(std::string_view name) {
  size_t first = name.find_first_not_of(" \t");
  size_t last = name.find_last_not_of(" \t");
  std::string out(first == std::string_view::npos ? std::string_view()
                                                  : name.substr(first, last - first + 1));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status PayloadError(fb::EventType type, std::string why) {
  return InvalidArgument(std::string(EventTypeName(type)) + " payload " + why);
}

}  // namespace

std::string_view RoleName(fb::Role role) {
  switch (role) {
    case fb::Role::system:
      return "system";
    case fb::Role::admin:
      return "admin";
    case fb::Role::maker:
      return "maker";
    case fb::Role::checker:
      return "checker";
    case fb::Role::auditor:
      return "auditor";
    case fb::Role::charity:
      return "charity";
    case fb::Role::reader:
      return "public";
  }
  return "unknown";
}

Result<fb::Role> RoleFromName(std::string_view name) {
  for (fb::Role r : fb::EnumValuesRole()) {
    if (RoleName(r) == name) return r;
  }
  return InvalidArgument("unknown role '" + std::string(name) +
                         "' (admin, maker, checker, auditor, charity, public)");
}

std::string_view EventTypeName(fb::EventType type) {
  const char* name = fb::EnumNameEventType(type);
  return name != nullptr && *name != '\0' ? name : "Unknown";
}

Result<std::string> NormalizeActorName(std::string_view name) {
  std::string out = FoldActor(name);
  if (!IsNormalActorName(out)) {
    return InvalidArgument("actor must be 1.." + std::to_string(kActorBytesMax) +
                           " characters of " + std::string(kActorCharacters) + " (letters in " +
                           "any case), got '" + std::string(name.substr(0, 80)) + "'")
        .WithField("actor");
  }
  return out;
}

bool IsNormalActorName(std::string_view name) {
  if (name.empty() || name.size() > kActorBytesMax) return false;
  for (char c : name) {
    if (!IsActorCharacter(c)) return false;
  }
  return true;
}

bool SameActor(std::string_view a, std::string_view b) { return FoldActor(a) == FoldActor(b); }

Status ValidateNewEntry(const NewEntry& e) {
  if (!IsNormalActorName(e.actor)) {
    return InvalidArgument("actor must be 1.." + std::to_string(kActorBytesMax) +
                           " characters of " + std::string(kActorCharacters) +
                           " (normalised by the ledger)")
        .WithField("actor");
  }
  if (!IsSchemaRole(e.role)) {
    return InvalidArgument("role " + std::to_string(static_cast<unsigned>(e.role)) +
                           " is not one of the schema's roles")
        .WithField("role");
  }
  if (e.payload.size() > kPayloadBytesMax) {
    return TooLarge("payload is larger than " + std::to_string(kPayloadBytesMax) + " bytes");
  }
  if (e.event_type == fb::EventType::Unknown) {
    return InvalidArgument("unknown event type 0").WithField("event_type");
  }
  if (e.event_type == fb::EventType::Genesis) {
    return InvalidArgument("a Genesis entry exists only at index 0").WithField("event_type");
  }
  FL_RETURN_IF_ERROR(VerifyPayload(e.event_type, e.payload));
  if (e.signature &&
      (e.signature->request.empty() || e.signature->request.size() > kSignedRequestBytesMax ||
       e.signature->key_id.size() != kKeyIdHexChars || e.signature->part >= e.signature->parts)) {
    return InvalidArgument(
               "a signature names a key id of 16 hex digits, a request of 1..512 "
               "bytes and its part of the command")
        .WithField("signature");
  }
  if (e.event_type == fb::EventType::Memo) {
    MemoView m = *DecodeMemo(e.payload);
    if (m.text.empty() || m.text.size() > kMemoTextBytesMax) {
      return InvalidArgument("memo text must be 1.." + std::to_string(kMemoTextBytesMax) + " bytes")
          .WithField("text");
    }
  }
  return Status::Ok();
}

Status VerifyPayload(fb::EventType type, ByteView payload) {
  switch (type) {
    case fb::EventType::Genesis:
      if (!DecodeGenesis(payload).ok()) return PayloadError(type, "is not a valid Genesis");
      return Status::Ok();
    case fb::EventType::Memo:
      if (!DecodeMemo(payload).ok()) return PayloadError(type, "is not a valid Memo");
      return Status::Ok();
    default:
      if (IsDomainEvent(type)) return VerifyDomainPayload(type, payload);
      if (IsKeyEvent(type)) return VerifyKeyEventPayload(type, payload);
      return InvalidArgument("unknown event type " + std::to_string(static_cast<unsigned>(type)))
          .WithField("event_type");
  }
}

Bytes EncodeEntry(const NewEntry& e, std::string_view idempotency_key, uint64_t index,
                  int64_t timestamp_ms, const Hash& prev_leaf_hash) {
  flatbuffers::FlatBufferBuilder b(256 + e.payload.size());
  auto actor = b.CreateString(e.actor);
  auto key = b.CreateString(idempotency_key);
  // The payload is itself a FlatBuffer read in place: align it like a buffer of its own.
  b.ForceVectorAlignment(e.payload.size(), 1, kPayloadAlignment);
  auto payload = b.CreateVector(e.payload.data(), e.payload.size());
  flatbuffers::Offset<fb::CommandSignature> signature;
  if (e.signature) {
    const EntrySignature& s = *e.signature;
    signature = fb::CreateCommandSignature(
        b, b.CreateString(s.key_id), b.CreateVector(s.signature.data(), s.signature.size()),
        b.CreateString(s.request), b.CreateVector(s.body_sha256.data(), s.body_sha256.size()),
        s.part, s.parts);
  }
  fb::Hash32 prev(flatbuffers::span<const uint8_t, 32>(prev_leaf_hash.data(), 32));
  fb::EntryBuilder eb(b);
  eb.add_index(index);
  eb.add_timestamp_ms(timestamp_ms);
  eb.add_actor(actor);
  eb.add_role(e.role);
  eb.add_idempotency_key(key);
  eb.add_prev_leaf_hash(&prev);
  eb.add_event_type(e.event_type);
  eb.add_payload(payload);
  if (e.signature) eb.add_signature(signature);
  b.Finish(eb.Finish(), fb::EntryIdentifier());
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

namespace {

// The fields of an entry whose required fields (actor, prev_leaf_hash, payload) are present.
EntryView ViewOf(const fb::Entry& e) {
  EntryView v;
  v.index = e.index();
  v.timestamp_ms = e.timestamp_ms();
  v.actor = e.actor()->string_view();
  v.role = e.role();
  if (e.idempotency_key() != nullptr) v.idempotency_key = e.idempotency_key()->string_view();
  std::memcpy(v.prev_leaf_hash.data(), e.prev_leaf_hash()->bytes()->data(), kHashBytes);
  v.event_type = e.event_type();
  v.payload = ByteView(e.payload()->data(), e.payload()->size());
  v.signature = e.signature();
  return v;
}

}  // namespace

Result<EntryView> DecodeEntry(ByteView bytes) {
  assert(reinterpret_cast<uintptr_t>(bytes.data()) % kPayloadAlignment == 0 &&
         "entries are decoded from 8-byte aligned memory");
  if (bytes.size() > kEntryBytesMax) return Corruption("entry is larger than 65,535 bytes");
  if (!VerifyTable<fb::Entry>(bytes) || !fb::EntryBufferHasIdentifier(bytes.data())) {
    return Corruption("not a valid Entry buffer (FlatBuffers verification failed)");
  }
  const fb::Entry* e = fb::GetEntry(bytes.data());
  if (e->actor() == nullptr || e->prev_leaf_hash() == nullptr || e->payload() == nullptr) {
    return Corruption("entry lacks a required field (actor, prev_leaf_hash or payload)");
  }
  EntryView v = ViewOf(*e);
  if (!IsSchemaRole(v.role))
    return Corruption("role " + std::to_string(static_cast<unsigned>(v.role)) +
                      " is not one of the schema's roles");
  if (!v.payload.empty() && (v.payload.data() - bytes.data()) % kPayloadAlignment != 0) {
    return Corruption("payload does not start at a multiple of 8 bytes into the entry");
  }
  return v;
}

EntryView DecodeVerifiedEntry(ByteView bytes) {
  assert(reinterpret_cast<uintptr_t>(bytes.data()) % kPayloadAlignment == 0 &&
         "entries are decoded from 8-byte aligned memory");
  const fb::Entry* e = fb::GetEntry(bytes.data());
  assert(e->actor() != nullptr && e->prev_leaf_hash() != nullptr && e->payload() != nullptr);
  return ViewOf(*e);
}

Bytes EncodeGenesis(std::string_view origin, const Ed25519PublicKey& public_key,
                    int64_t created_ms) {
  flatbuffers::FlatBufferBuilder b(256);
  auto o = b.CreateString(origin);
  auto k = b.CreateVector(public_key.data(), public_key.size());
  auto f = b.CreateString(kLogFormat);
  b.Finish(fb::CreateGenesis(b, o, k, created_ms, f));
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

Result<GenesisView> DecodeGenesis(ByteView payload) {
  if (!VerifyTable<fb::Genesis>(payload)) return Corruption("not a valid Genesis buffer");
  const fb::Genesis* g = flatbuffers::GetRoot<fb::Genesis>(payload.data());
  if (g->origin() == nullptr || g->public_key() == nullptr || g->format() == nullptr) {
    return Corruption("genesis lacks origin, public_key or format");
  }
  GenesisView v;
  v.origin = g->origin()->string_view();
  FL_ASSIGN_OR_RETURN(v.public_key, Ed25519PublicKeyFromBytes(ByteView(g->public_key()->data(),
                                                                       g->public_key()->size())));
  v.created_ms = g->created_ms();
  v.format = g->format()->string_view();
  return v;
}

}  // namespace fundledger

namespace fundledger {

Result<NoteVerifier> GenesisVerifier(ByteView entry0_bytes) {
  FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(entry0_bytes));
  if (e.event_type != fb::EventType::Genesis) return Corruption("entry 0 is not a Genesis entry");
  FL_ASSIGN_OR_RETURN(GenesisView g, DecodeGenesis(e.payload));
  return NoteVerifier{std::string(g.origin), NoteKeyId(g.origin, kNoteAlgEd25519, g.public_key),
                      kNoteAlgEd25519, g.public_key};
}

Bytes EncodeMemo(std::string_view text, std::string_view reference) {
  flatbuffers::FlatBufferBuilder b(64 + text.size() + reference.size());
  auto t = b.CreateString(text);
  auto r = b.CreateString(reference);
  b.Finish(fb::CreateMemo(b, t, r));
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

Result<MemoView> DecodeMemo(ByteView payload) {
  if (!VerifyTable<fb::Memo>(payload)) return Corruption("not a valid Memo buffer");
  const fb::Memo* m = flatbuffers::GetRoot<fb::Memo>(payload.data());
  MemoView v;
  if (m->text() != nullptr) v.text = m->text()->string_view();
  if (m->reference() != nullptr) v.reference = m->reference()->string_view();
  return v;
}

}  // namespace fundledger
