#include "witness/witness_client.h"

#include <algorithm>

#include "crypto/checkpoint.h"

namespace fundledger {
namespace {

constexpr size_t kQuotedBodyBytesMax = 200;  // of a witness's error body, in our messages

std::string Quote(std::string_view body) {
  std::string s(body.substr(0, kQuotedBodyBytesMax));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "(no message)" : "'" + s + "'";
}

bool IsMediaType(std::string_view content_type, std::string_view type) {
  return content_type.substr(0, content_type.find(';')) == type;
}

// What a non-200, non-409 answer means, in the terms of the spec's status codes.
Status Refusal(const WitnessAnswer& a, const std::string& witness, const Checkpoint& cp,
               uint64_t old_size) {
  std::string who = "witness " + witness;
  std::string why = Quote(a.body);
  switch (a.status) {
    case 400:
      return InvalidArgument(who + " called the add-checkpoint request malformed: " + why);
    case 403:
      return Status(StatusCode::kPermissionDenied,
                    who + " does not accept the log's signature on '" + cp.origin +
                        "' (is it configured with the log's current key?): " + why);
    case 404:
      return NotFound(who + " does not watch the log '" + cp.origin + "'");
    case 413:
      return TooLarge(who + " refused the request as too large: " + why);
    case 422:
      return RuleViolation("witness_inconsistent",
                           who + " found the checkpoint of size " + std::to_string(cp.size) +
                               " inconsistent with the size " + std::to_string(old_size) +
                               " it cosigned: " + why);
    default:
      return Overloaded(who + " answered HTTP " + std::to_string(a.status) + ": " + why);
  }
}

}  // namespace

WitnessClient::WitnessClient(WitnessEndpoint endpoint, WitnessTransport* transport,
                             SecondsClock now_seconds)
    : endpoint_(std::move(endpoint)), transport_(transport), now_seconds_(std::move(now_seconds)) {
  assert(transport_ != nullptr && endpoint_.key.algorithm == kNoteAlgCosignatureV1);
}

Result<WitnessCosignature> WitnessClient::RequestCosignature(
    std::string_view signed_checkpoint, uint64_t believed_size,
    const ConsistencyProofSource& proofs) const {
  FL_ASSIGN_OR_RETURN(Note note, ParseNote(signed_checkpoint));
  FL_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(note.text));
  const std::string& name = endpoint_.key.name;
  uint64_t old_size = believed_size;
  for (int attempt = 1;; ++attempt) {
    if (old_size > cp.size) {
      return Conflict("witness " + name + " holds size " + std::to_string(old_size) + " of '" +
                      cp.origin + "', above this checkpoint's " + std::to_string(cp.size) +
                      ": the log was rolled back or forked");
    }
    FL_ASSIGN_OR_RETURN(WitnessAnswer a, Submit(signed_checkpoint, cp.size, old_size, proofs));
    if (a.status == 200) return CheckCosignature(note.text, a.body, cp.size);
    if (a.status != 409) return Refusal(a, name, cp, old_size);
    Result<uint64_t> held = ParseSizeConflictBody(a.body);
    if (!held.ok() || !IsMediaType(a.content_type, kTlogSizeContentType)) {
      return Corruption("witness " + name + " answered 409 without a text/x.tlog.size body");
    }
    if (attempt == 2) {
      return Conflict("witness " + name + " holds size " + std::to_string(*held) +
                      " after a resync to " + std::to_string(old_size) +
                      ": another submitter is racing this one");
    }
    old_size = *held;
  }
}

Result<WitnessAnswer> WitnessClient::Submit(std::string_view note, uint64_t size, uint64_t old_size,
                                            const ConsistencyProofSource& proofs) const {
  AddCheckpointRequest request{old_size, {}, std::string(note)};
  if (old_size != 0 && old_size != size) {
    FL_ASSIGN_OR_RETURN(request.proof, proofs(old_size, size));
    if (request.proof.size() > kAddCheckpointProofLinesMax) {
      return Internal("a consistency proof of more than 63 hashes");
    }
  }
  std::string url = endpoint_.submission_prefix;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += kAddCheckpointPath;
  return transport_->Post(url, FormatAddCheckpointRequest(request));
}

// The 200 body is signature lines for `text`; the one by our witness's key must verify.
Result<WitnessCosignature> WitnessClient::CheckCosignature(std::string_view text,
                                                           std::string_view body,
                                                           uint64_t size) const {
  const NoteVerifier& key = endpoint_.key;
  Result<Note> lines = ParseNote(std::string(text) + "\n" + std::string(body));
  if (!lines.ok()) {
    return Corruption("witness " + key.name +
                      " answered 200 with no signature lines: " + lines.status().message());
  }
  for (const NoteSignature& sig : lines->signatures) {
    if (sig.name != key.name || sig.key_id != key.key_id) continue;  // unknown keys: ignored
    if (!VerifyNote(Note{std::string(text), {sig}}, key).ok()) {
      return Corruption("the cosignature by witness " + key.name + " does not verify");
    }
    FL_ASSIGN_OR_RETURN(uint64_t ts, CosignatureTimestamp(sig));
    uint64_t now = now_seconds_();
    uint64_t skew = ts > now ? ts - now : now - ts;
    if (ts == 0 || skew > kCosignatureClockSkewSecondsMax) {
      return Corruption("the cosignature by witness " + key.name + " is timestamped " +
                        std::to_string(ts) + ", " + std::to_string(skew) +
                        " s from our clock (at most " +
                        std::to_string(kCosignatureClockSkewSecondsMax) + " allowed)");
    }
    return WitnessCosignature{FormatSignatureLine(sig), ts, size};
  }
  return Corruption("witness " + key.name + " answered 200 without a cosignature by its key " +
                    FormatVerifierKey(key));
}

Result<std::string> AddCosignatures(std::string_view signed_note,
                                    std::span<const std::string> signature_lines) {
  FL_ASSIGN_OR_RETURN(Note note, ParseNote(signed_note));
  if (signature_lines.empty()) return std::string(signed_note);
  std::string added_text = note.text + "\n";
  for (const std::string& line : signature_lines) added_text += line;
  FL_ASSIGN_OR_RETURN(Note added, ParseNote(added_text));
  for (NoteSignature& sig : added.signatures) {
    auto same_key = [&](const NoteSignature& s) {
      return s.name == sig.name && s.key_id == sig.key_id;
    };
    auto it = std::find_if(note.signatures.begin(), note.signatures.end(), same_key);
    if (it != note.signatures.end()) {
      *it = std::move(sig);
    } else if (note.signatures.size() == kNoteSignaturesMax) {
      return TooLarge("a note holds at most " + std::to_string(kNoteSignaturesMax) + " signatures");
    } else {
      note.signatures.push_back(std::move(sig));
    }
  }
  std::string out = note.text + "\n";
  for (const NoteSignature& sig : note.signatures) out += FormatSignatureLine(sig);
  return out;
}

}  // namespace fundledger
