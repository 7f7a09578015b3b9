#include "witness/witness_protocol.h"

#include <chrono>

#include "crypto/checkpoint.h"

namespace fundledger {
namespace {

constexpr std::string_view kOldPrefix = "old ";

Status RequestError(std::string why, uint64_t line) {
  return InvalidArgument("malformed add-checkpoint request: " + std::move(why)).WithLine(line);
}

}  // namespace

std::string FormatAddCheckpointRequest(const AddCheckpointRequest& request) {
  assert(request.proof.size() <= kAddCheckpointProofLinesMax);
  std::string out = std::string(kOldPrefix) + std::to_string(request.old_size) + "\n";
  for (const Hash& h : request.proof) out += Base64Encode(h) + "\n";
  out += "\n";
  out += request.checkpoint;
  return out;
}

Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body) {
  if (body.size() > kAddCheckpointBodyBytesMax) {
    return TooLarge("add-checkpoint request is over " + std::to_string(kAddCheckpointBodyBytesMax) +
                    " bytes");
  }
  size_t blank = body.find("\n\n");
  if (blank == std::string_view::npos)
    return RequestError("no empty line before the checkpoint", 0);
  std::string_view head = body.substr(0, blank + 1);  // the old line and the proof lines
  AddCheckpointRequest request;
  request.checkpoint = std::string(body.substr(blank + 2));
  if (request.checkpoint.empty()) return RequestError("no checkpoint after the empty line", 0);
  uint64_t line = 0;
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view text = head.substr(0, eol);
    head.remove_prefix(eol + 1);
    if (++line == 1) {
      if (!text.starts_with(kOldPrefix)) return RequestError("first line must be 'old <size>'", 1);
      Result<uint64_t> old = ParseTreeSize(text.substr(kOldPrefix.size()));
      if (!old.ok()) return RequestError("old " + old.status().message(), 1);
      request.old_size = *old;
      continue;
    }
    if (request.proof.size() == kAddCheckpointProofLinesMax) {
      return RequestError("more than 63 consistency proof lines", line);
    }
    Result<Bytes> bytes = Base64Decode(text);
    Result<Hash> hash = bytes.ok() ? HashFromBytes(*bytes) : Result<Hash>(bytes.status());
    if (!hash.ok()) return RequestError("proof line is not a base64 32-byte hash", line);
    request.proof.push_back(*hash);
  }
  return request;
}

uint64_t SystemSeconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

WitnessAnswer SizeConflictAnswer(uint64_t held_size) {
  return {409, std::string(kTlogSizeContentType), std::to_string(held_size) + "\n"};
}

Result<uint64_t> ParseSizeConflictBody(std::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return InvalidArgument("a 409 body must be a decimal size and a newline");
  }
  return ParseTreeSize(body.substr(0, body.size() - 1));
}

WitnessAnswer ErrorAnswer(const Status& status) {
  assert(!status.ok());
  return {HttpStatusFor(status.code()), std::string(kTextContentType), status.message() + "\n"};
}

}  // namespace fundledger
