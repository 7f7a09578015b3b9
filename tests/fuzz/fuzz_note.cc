// Fuzz target: signed notes, checkpoints, verifier and signer keys, tile paths and entry
// bundles: everything parsed from text that arrives from outside.
#include <cstdint>
#include <string>

#include "crypto/checkpoint.h"
#include "crypto/tlog_tiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fundledger;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const NoteVerifier verifier = *ParseVerifierKey(
      "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx");
  Result<Note> note = ParseNote(text);
  if (note.ok()) {
    (void)VerifyNote(*note, verifier);
    (void)ParseCheckpoint(note->text);
  }
  (void)OpenCheckpoint(text, verifier);
  (void)ParseCheckpoint(text);
  (void)ParseVerifierKey(text);
  (void)ParseSignerKey(text);
  (void)Base64Decode(text);
  size_t slash = text.find('/');
  if (slash != std::string_view::npos)
    (void)ParseTilePath(text.substr(0, slash), text.substr(slash + 1));
  (void)DecodeEntryBundle(ByteView(data, size), 256);
  return 0;
}
