// The log's side of C2SP tlog-witness: asks one witness to cosign a checkpoint.
//
// RequestCosignature() builds the add-checkpoint request from the signed checkpoint, the size
// the witness is believed to hold and a consistency proof the log provides, posts it through
// a WitnessTransport, and checks the answer:
//   200  the cosignature/v1 line by the configured witness key must verify over this very
//        checkpoint, with a timestamp within kCosignatureClockSkewSecondsMax of our clock;
//        lines by other keys are ignored, as the spec requires
//   409  the witness holds another size: retried once from that size with a new proof; a
//        held size above the checkpoint's means the witness saw a larger tree (the log was
//        rolled back, or showed someone a fork) and is an error
//   other statuses become errors that say what the witness refused and why
// AddCosignatures() then merges the returned lines into the log's signed note.
//
// Threads: a WitnessClient is immutable; RequestCosignature may run on several threads at
// once if the transport allows it (one request per log at a time keeps the witness's size
// predictable, but a 409 is handled either way).
//
//   WitnessClient client({witness_vkey, "https://witness.example/"}, &transport);
//   FL_ASSIGN_OR_RETURN(WitnessCosignature c, client.RequestCosignature(note, held, proofs));
//   FL_ASSIGN_OR_RETURN(note, AddCosignatures(note, {c.line}));
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "witness/witness_protocol.h"

namespace fundledger {

// A cosignature more than this far from our clock (either way) is refused: a witness whose
// clock is that wrong makes timestamps that mean nothing.
inline constexpr uint64_t kCosignatureClockSkewSecondsMax = 600;

// How the client reaches a witness; the HTTP implementation lives with the HTTP stack.
class WitnessTransport {
 public:
  virtual ~WitnessTransport() = default;
  // POSTs `body` to `url`. An error only when no HTTP answer arrived (connection refused,
  // timeout); any HTTP status, 5xx included, is an answer.
  virtual Result<WitnessAnswer> Post(const std::string& url, std::string_view body) = 0;
};

struct WitnessEndpoint {
  NoteVerifier key;               // the witness's cosignature key (signature type 0x04)
  std::string submission_prefix;  // add-checkpoint is POSTed to <prefix>/add-checkpoint
};

// The log's consistency proof from `old_size` to `size` (0 < old_size < size).
using ConsistencyProofSource =
    std::function<Result<std::vector<Hash>>(uint64_t old_size, uint64_t size)>;

struct WitnessCosignature {
  std::string line;        // "— <witness name> <base64>\n", verified
  uint64_t timestamp = 0;  // POSIX seconds
  uint64_t held_size = 0;  // what the witness holds now: the checkpoint's size
};

class WitnessClient {
 public:
  WitnessClient(WitnessEndpoint endpoint, WitnessTransport* transport,
                SecondsClock now_seconds = SystemSeconds);

  const WitnessEndpoint& endpoint() const { return endpoint_; }

  // `believed_size`: the size this witness last cosigned for the log (0 when unknown).
  Result<WitnessCosignature> RequestCosignature(std::string_view signed_checkpoint,
                                                uint64_t believed_size,
                                                const ConsistencyProofSource& proofs) const;

 private:
  Result<WitnessAnswer> Submit(std::string_view note, uint64_t size, uint64_t old_size,
                               const ConsistencyProofSource& proofs) const;
  Result<WitnessCosignature> CheckCosignature(std::string_view text, std::string_view body,
                                              uint64_t size) const;

  WitnessEndpoint endpoint_;
  WitnessTransport* transport_;
  SecondsClock now_seconds_;
};

// The signed note with `signature_lines` ("— name base64\n" each) appended after its own
// signatures, which keep their order (so the log's signature stays first). A line by a key
// that already signed replaces that key's older line; identical lines are kept once.
Result<std::string> AddCosignatures(std::string_view signed_note,
                                    std::span<const std::string> signature_lines);

}  // namespace fundledger
