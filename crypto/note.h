// C2SP signed notes (c2sp.org/signed-note) and Ed25519 cosignatures (c2sp.org/tlog-cosignature).
//
// A note is UTF-8 text ending in a newline, a blank line, and one or more signature lines
// "— <key name> <base64(key id || signature)>\n". A key id is the first 4 bytes of
// SHA-256(<key name> || "\n" || <algorithm byte> || <public key>).
//
// Key string forms (as in golang.org/x/mod/sumdb/note):
//   verifier key  <name>+<hex key id>+<base64(algorithm || public key)>
//   signer key    PRIVATE+KEY+<name>+<hex key id>+<base64(algorithm || seed)>
//
//   Result<NoteSigner> signer = ParseSignerKey(skey_text);
//   std::string note = SignNote("example.com/log\n1\n...\n", *signer);
//   Result<Note> parsed = ParseNote(note);
//   Status ok = VerifyNote(*parsed, VerifierFor(*signer));
//
// Verification passes when the note holds a signature from that verifier's name and key id
// and it verifies; signatures from other keys are ignored, as the spec requires.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"

namespace fundledger {

inline constexpr uint8_t kNoteAlgEd25519 = 0x01;
inline constexpr uint8_t kNoteAlgCosignatureV1 = 0x04;  // Ed25519 cosignature/v1 (witnesses)
inline constexpr size_t kNoteBytesMax = 1 << 20;
inline constexpr size_t kNoteSignaturesMax = 100;

// Holds its key parsed (an Ed25519Verifier), so a verifier kept for a log checks each of its
// checkpoints without rebuilding OpenSSL's key; copies share it.
struct NoteVerifier {
  std::string name;
  uint32_t key_id = 0;
  uint8_t algorithm = kNoteAlgEd25519;
  Ed25519Verifier key;
};

struct NoteSigner {
  std::string name;
  uint32_t key_id = 0;
  Ed25519PrivateKey key;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  Bytes signature;  // what follows the key id: 64 bytes (Ed25519) or 72 (cosignature/v1)
};

struct Note {
  std::string text;  // ends with "\n"
  std::vector<NoteSignature> signatures;
};

// A key name is non-empty UTF-8 with no Unicode space and no '+'.
bool IsValidKeyName(std::string_view name);
uint32_t NoteKeyId(std::string_view name, uint8_t algorithm, const Ed25519PublicKey& public_key);

Result<NoteVerifier> ParseVerifierKey(std::string_view vkey);
std::string FormatVerifierKey(const NoteVerifier& verifier);
Result<NoteSigner> ParseSignerKey(std::string_view skey);
std::string FormatSignerKey(const NoteSigner& signer);  // secret: write only to a 0600 file
Result<NoteSigner> MakeNoteSigner(std::string_view name, const Ed25519PrivateKey& key);
NoteVerifier VerifierFor(const NoteSigner& signer);

// The text plus a blank line and this signer's signature line.
std::string SignNote(std::string_view text, const NoteSigner& signer);
// One signature line, "— <name> <base64(key id || signature)>\n".
std::string FormatSignatureLine(const NoteSignature& signature);
// Checks structure only: text rules, blank line, signature line syntax, limits.
Result<Note> ParseNote(std::string_view message);
// Ok when `note` has a signature by `verifier` (same name and key id) that verifies.
Status VerifyNote(const Note& note, const NoteVerifier& verifier);

// cosignature/v1: the message a witness signs, and the timestamp a cosignature carries.
std::string CosignatureMessage(std::string_view text, uint64_t timestamp);
Result<uint64_t> CosignatureTimestamp(const NoteSignature& signature);
// A witness cosigns with its Ed25519 signer key; the key id is recomputed with algorithm 0x04,
// so one key file serves (as in transparency-dev/formats) and the two key ids differ.
NoteVerifier CosignatureVerifierFor(const NoteSigner& signer);
// The cosignature/v1 signature of note text `text` at `timestamp` (POSIX seconds, 1..2^63-1):
// 8 bytes big-endian timestamp || Ed25519 signature of CosignatureMessage(text, timestamp).
NoteSignature CosignNote(std::string_view text, const NoteSigner& signer, uint64_t timestamp);

}  // namespace fundledger
