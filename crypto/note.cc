#include "crypto/note.h"

#include <cstdio>

#include "crypto/sha256.h"

namespace fundledger {
namespace {

constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";  // "— " (U+2014, space)
constexpr std::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";

Status NoteError(std::string why) { return InvalidArgument("malformed note: " + std::move(why)); }

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 when invalid.
size_t Utf8Length(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  uint8_t c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t v = c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    v = v << 6 | (b(k) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
  *cp = v;
  return len;
}

bool IsUnicodeSpace(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

// Valid UTF-8 with no control characters other than newline.
bool IsValidNoteText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = Utf8Length(s, i, &cp);
    if (len == 0) return false;
    if ((cp < 0x20 && cp != '\n') || cp == 0x7f) return false;
    i += len;
  }
  return true;
}

Result<uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) return InvalidArgument("key id must be 8 hex digits");
  FL_ASSIGN_OR_RETURN(Bytes id, HexDecode(hex));
  return GetBigEndian32(id.data());
}

std::string KeyIdHex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

// Splits "<name>+<hex id>+<base64 key>" at its first two '+': names may not hold one, base64 may.
struct KeyParts {
  std::string_view name;
  uint32_t key_id;
  Bytes key;  // algorithm byte || key bytes
};

Result<KeyParts> SplitKey(std::string_view text) {
  size_t first = text.find('+');
  if (first == std::string_view::npos) return InvalidArgument("key has no '+' fields");
  size_t second = text.find('+', first + 1);
  if (second == std::string_view::npos) return InvalidArgument("key has no key id field");
  KeyParts parts;
  parts.name = text.substr(0, first);
  if (!IsValidKeyName(parts.name))
    return InvalidArgument("key name is empty or has a space or '+'");
  FL_ASSIGN_OR_RETURN(parts.key_id, ParseKeyIdHex(text.substr(first + 1, second - first - 1)));
  FL_ASSIGN_OR_RETURN(parts.key, Base64Decode(text.substr(second + 1)));
  if (parts.key.empty()) return InvalidArgument("key has no algorithm byte");
  return parts;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t len = Utf8Length(name, i, &cp);
    if (len == 0 || cp == '+' || IsUnicodeSpace(cp) || cp < 0x20 || cp == 0x7f) return false;
    i += len;
  }
  return true;
}

uint32_t NoteKeyId(std::string_view name, uint8_t algorithm, const Ed25519PublicKey& public_key) {
  Sha256 h;
  Hash d =
      h.Update(AsBytes(name)).Update(uint8_t{'\n'}).Update(algorithm).Update(public_key).Finish();
  return GetBigEndian32(d.data());
}

Result<NoteVerifier> ParseVerifierKey(std::string_view vkey) {
  Result<KeyParts> parts = SplitKey(vkey);
  if (!parts.ok()) return InvalidArgument("invalid verifier key: " + parts.status().message());
  NoteVerifier v;
  v.name = std::string(parts->name);
  v.key_id = parts->key_id;
  v.algorithm = parts->key[0];
  if (v.algorithm != kNoteAlgEd25519 && v.algorithm != kNoteAlgCosignatureV1) {
    return InvalidArgument("invalid verifier key: unknown algorithm " +
                           std::to_string(v.algorithm));
  }
  Result<Ed25519PublicKey> pub = Ed25519PublicKeyFromBytes(ByteView(parts->key).subspan(1));
  if (!pub.ok()) return InvalidArgument("invalid verifier key: " + pub.status().message());
  if (Status usable = Ed25519CheckPublicKey(*pub); !usable.ok())
    return InvalidArgument("invalid verifier key: " + usable.message());
  if (NoteKeyId(v.name, v.algorithm, *pub) != v.key_id) {
    return InvalidArgument("invalid verifier key: key id does not match the key");
  }
  v.key = *pub;
  return v;
}

std::string FormatVerifierKey(const NoteVerifier& v) {
  Bytes key{v.algorithm};
  key.insert(key.end(), v.key.public_key().begin(), v.key.public_key().end());
  return v.name + "+" + KeyIdHex(v.key_id) + "+" + Base64Encode(key);
}

Result<NoteSigner> ParseSignerKey(std::string_view skey) {
  if (!skey.starts_with(kPrivateKeyPrefix)) {
    return InvalidArgument("invalid signer key: it must start with PRIVATE+KEY+");
  }
  Result<KeyParts> parts = SplitKey(skey.substr(kPrivateKeyPrefix.size()));
  if (!parts.ok()) return InvalidArgument("invalid signer key: " + parts.status().message());
  if (parts->key[0] != kNoteAlgEd25519) return InvalidArgument("invalid signer key: not Ed25519");
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(ByteView(parts->key).subspan(1));
  if (!key.ok()) return InvalidArgument("invalid signer key: " + key.status().message());
  NoteSigner s{std::string(parts->name), parts->key_id, *key};
  if (NoteKeyId(s.name, kNoteAlgEd25519, s.key.public_key()) != s.key_id) {
    return InvalidArgument("invalid signer key: key id does not match the key");
  }
  return s;
}

std::string FormatSignerKey(const NoteSigner& s) {
  Bytes key{kNoteAlgEd25519};
  key.insert(key.end(), s.key.seed().begin(), s.key.seed().end());
  return std::string(kPrivateKeyPrefix) + s.name + "+" + KeyIdHex(s.key_id) + "+" +
         Base64Encode(key);
}

Result<NoteSigner> MakeNoteSigner(std::string_view name, const Ed25519PrivateKey& key) {
  if (!IsValidKeyName(name)) return InvalidArgument("key name is empty or has a space or '+'");
  return NoteSigner{std::string(name), NoteKeyId(name, kNoteAlgEd25519, key.public_key()), key};
}

NoteVerifier VerifierFor(const NoteSigner& s) {
  return NoteVerifier{s.name, s.key_id, kNoteAlgEd25519, s.key.public_key()};
}

std::string SignNote(std::string_view text, const NoteSigner& signer) {
  assert(!text.empty() && text.back() == '\n');
  Ed25519Signature sig = signer.key.Sign(AsBytes(text));
  NoteSignature line{signer.name, signer.key_id, Bytes(sig.begin(), sig.end())};
  return std::string(text) + "\n" + FormatSignatureLine(line);
}

std::string FormatSignatureLine(const NoteSignature& signature) {
  Bytes blob(4);
  PutBigEndian32(signature.key_id, blob.data());
  blob.insert(blob.end(), signature.signature.begin(), signature.signature.end());
  return std::string(kSignaturePrefix) + signature.name + " " + Base64Encode(blob) + "\n";
}

Result<Note> ParseNote(std::string_view message) {
  if (message.size() > kNoteBytesMax) return NoteError("larger than 1 MiB");
  size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) return NoteError("no blank line before the signatures");
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  if (!IsValidNoteText(note.text)) return NoteError("text is not UTF-8 without control characters");
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n')
    return NoteError("signature block must end in a newline");
  while (!sigs.empty()) {
    size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (!line.starts_with(kSignaturePrefix))
      return NoteError("signature line does not start with '— '");
    line.remove_prefix(kSignaturePrefix.size());
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return NoteError("signature line has no signature");
    NoteSignature s;
    s.name = std::string(line.substr(0, space));
    if (!IsValidKeyName(s.name)) return NoteError("signature line has an invalid key name");
    Result<Bytes> blob = Base64Decode(line.substr(space + 1));
    if (!blob.ok()) return NoteError("signature is not valid base64: " + blob.status().message());
    if (blob->size() < 5) return NoteError("signature is too short");
    s.key_id = GetBigEndian32(blob->data());
    s.signature.assign(blob->begin() + 4, blob->end());
    if (note.signatures.size() == kNoteSignaturesMax) return NoteError("more than 100 signatures");
    note.signatures.push_back(std::move(s));
  }
  return note;
}

std::string CosignatureMessage(std::string_view text, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(text);
}

Result<uint64_t> CosignatureTimestamp(const NoteSignature& signature) {
  if (signature.signature.size() != 8 + kEd25519SignatureBytes) {
    return Corruption("a cosignature/v1 signature is 72 bytes after the key id");
  }
  return GetBigEndian64(signature.signature.data());
}

NoteVerifier CosignatureVerifierFor(const NoteSigner& signer) {
  const Ed25519PublicKey& pub = signer.key.public_key();
  return NoteVerifier{signer.name, NoteKeyId(signer.name, kNoteAlgCosignatureV1, pub),
                      kNoteAlgCosignatureV1, pub};
}

NoteSignature CosignNote(std::string_view text, const NoteSigner& signer, uint64_t timestamp) {
  assert(timestamp > 0 && timestamp <= uint64_t{INT64_MAX});
  assert(!text.empty() && text.back() == '\n');
  Ed25519Signature sig = signer.key.Sign(AsBytes(CosignatureMessage(text, timestamp)));
  NoteSignature s{signer.name, CosignatureVerifierFor(signer).key_id, Bytes(8)};
  PutBigEndian64(timestamp, s.signature.data());
  s.signature.insert(s.signature.end(), sig.begin(), sig.end());
  return s;
}

Status VerifyNote(const Note& note, const NoteVerifier& verifier) {
  for (const NoteSignature& s : note.signatures) {
    if (s.name != verifier.name || s.key_id != verifier.key_id) continue;
    if (verifier.algorithm == kNoteAlgCosignatureV1) {
      FL_ASSIGN_OR_RETURN(uint64_t ts, CosignatureTimestamp(s));
      std::string msg = CosignatureMessage(note.text, ts);
      return verifier.key.Verify(AsBytes(msg), ByteView(s.signature).subspan(8));
    }
    Status st = verifier.key.Verify(AsBytes(note.text), s.signature);
    if (!st.ok()) return Corruption("note signature by " + verifier.name + " does not verify");
    return Status::Ok();
  }
  return Corruption("note has no signature by " + verifier.name + "+" + KeyIdHex(verifier.key_id));
}

}  // namespace fundledger
