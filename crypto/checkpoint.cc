#include "crypto/checkpoint.h"

#include <charconv>

namespace fundledger {
namespace {

Status CheckpointError(std::string why) {
  return InvalidArgument("malformed checkpoint: " + std::move(why));
}

}  // namespace

Result<uint64_t> ParseTreeSize(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) {
    return InvalidArgument("size must be a decimal number without leading zeros");
  }
  uint64_t size = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument("size is not a decimal 64-bit number");
  }
  return size;
}

std::string FormatCheckpoint(const Checkpoint& cp) {
  std::string out =
      cp.origin + "\n" + std::to_string(cp.size) + "\n" + Base64Encode(cp.root) + "\n";
  for (const std::string& ext : cp.extensions) out += ext + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view body) {
  if (body.empty() || body.back() != '\n') return CheckpointError("body must end in a newline");
  std::vector<std::string_view> lines;
  std::string_view rest = body;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) return CheckpointError("needs origin, size and root lines");
  Checkpoint cp;
  if (lines[0].empty()) return CheckpointError("origin line is empty");
  cp.origin = std::string(lines[0]);
  Result<uint64_t> size = ParseTreeSize(lines[1]);
  if (!size.ok()) return CheckpointError(size.status().message());
  cp.size = *size;
  Result<Bytes> root = Base64Decode(lines[2]);
  if (!root.ok()) return CheckpointError("root is not base64: " + root.status().message());
  Result<Hash> hash = HashFromBytes(*root);
  if (!hash.ok()) return CheckpointError("root " + hash.status().message());
  cp.root = *hash;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty())
      return CheckpointError("extension line " + std::to_string(i - 2) + " is empty");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier) {
  FL_ASSIGN_OR_RETURN(Note note, ParseNote(signed_note));
  FL_RETURN_IF_ERROR(VerifyNote(note, verifier));
  FL_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(note.text));
  if (cp.origin != verifier.name) {
    return Corruption("checkpoint origin '" + cp.origin + "' is not the signer's name '" +
                      verifier.name + "'");
  }
  return cp;
}

}  // namespace fundledger
