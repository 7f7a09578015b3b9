// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed statement of a log's size and root.
//
// Body: "<origin>\n<decimal size>\n<base64 root hash>\n" followed by optional non-empty
// extension lines. The body is the text of a signed note whose signer's key name is the
// origin.
//
//   std::string note = SignNote(FormatCheckpoint({"example.com/log", 10, root}), signer);
//   Result<Checkpoint> cp = OpenCheckpoint(note, verifier);  // parse + verify
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/note.h"
#include "crypto/sha256.h"

namespace fundledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
};

// A tree size as the C2SP formats write it: ASCII decimal, no leading zeros ("0" for zero),
// at most 2^64-1. Shared by checkpoints and the witness protocol's "old" and 409 lines.
Result<uint64_t> ParseTreeSize(std::string_view text);

std::string FormatCheckpoint(const Checkpoint& checkpoint);
Result<Checkpoint> ParseCheckpoint(std::string_view body);
// Parses the signed note, checks it is signed by `verifier` and that the checkpoint's origin
// is the verifier's key name, then parses the body.
Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier);

}  // namespace fundledger
