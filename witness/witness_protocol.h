// The wire format of C2SP tlog-witness (c2sp.org/tlog-witness) add-checkpoint, without sockets:
// the request body both sides build and parse, and the answer a witness gives.
//
// Request body (POST <submission prefix>/add-checkpoint), every line ending in "\n":
//   old <size>                  the size the log believes the witness holds; "0" for none
//   <base64 hash>               0..63 lines: the RFC 6962 consistency proof from old to new
//   <empty line>
//   <signed checkpoint note>    c2sp.org/tlog-checkpoint in a c2sp.org/signed-note
//
// Answers (the status codes the spec defines; bodies other than 200 and 409 are a message):
//   200  one or more cosignature/v1 lines "— <witness name> <base64>\n"
//   400  malformed request, or old size above the checkpoint's size
//   403  no valid signature by a key the witness trusts for the origin (or one that fails)
//   404  the origin is not a log the witness watches
//   409  old is not the size the witness holds; body "<size it holds>\n",
//        Content-Type text/x.tlog.size
//   413  the body is over kAddCheckpointBodyBytesMax (ours: the spec sets no limit)
//   422  the proof does not verify, a non-empty proof from 0, an equal size with another root,
//        or a size-0 checkpoint without the empty tree's root
//   500  the witness could not make its new state durable; nothing was cosigned
//
//   Result<AddCheckpointRequest> r = ParseAddCheckpointRequest(body);
//   std::string again = FormatAddCheckpointRequest(*r);  // == body for a well-formed one
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.h"

namespace fundledger {

inline constexpr std::string_view kAddCheckpointPath = "/add-checkpoint";
inline constexpr std::string_view kTlogSizeContentType = "text/x.tlog.size";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
// A checkpoint note with a few signatures is well under 2 KiB and a proof at most 63 * 45 bytes;
// 64 KiB leaves room for extension lines and up to kNoteSignaturesMax signature lines.
inline constexpr size_t kAddCheckpointBodyBytesMax = 64 * 1024;
inline constexpr size_t kAddCheckpointProofLinesMax = 63;  // the spec's bound on the client

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed note, as submitted
};

std::string FormatAddCheckpointRequest(const AddCheckpointRequest& request);
// Checks the framing only (old line, proof lines, blank line, a non-empty rest): the note
// and its signatures are the witness's business. Errors are kInvalidArgument (400) naming the
// line, or kTooLarge (413).
Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body);

// POSIX seconds now, the unit of cosignature timestamps; tests inject their own clock.
using SecondsClock = std::function<uint64_t()>;
uint64_t SystemSeconds();

// An HTTP answer without the socket: what a Witness returns and what a transport hands back.
struct WitnessAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// 409 with the size the witness holds, exactly as the spec's body and content type say.
WitnessAnswer SizeConflictAnswer(uint64_t held_size);
// The size in a 409 body: "<decimal>\n" and nothing else.
Result<uint64_t> ParseSizeConflictBody(std::string_view body);
// A non-200 answer carrying `status`'s message, with the HTTP status its code maps to.
WitnessAnswer ErrorAnswer(const Status& status);

}  // namespace fundledger
