#include "witness/witness.h"

#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "crypto/key_file.h"
#include "crypto/merkle.h"

namespace fundledger {
namespace {

constexpr std::string_view kKeyFile = "/witness.key";
constexpr uint64_t kTimestampMax = uint64_t{INT64_MAX};  // tlog-cosignature's bound

Status PermissionDenied(std::string message) {
  return Status(StatusCode::kPermissionDenied, std::move(message));
}

}  // namespace

struct Witness::Submission {
  LogSlot* slot = nullptr;
  Checkpoint checkpoint;
  std::string text;            // the checkpoint note's text, ending in "\n"
  std::string log_signatures;  // the signature lines that verified with the log's keys
  uint64_t old_size = 0;
  std::vector<Hash> proof;
};

Witness::Witness(NoteSigner signer, CosignedCheckpointStore store, SecondsClock now_seconds)
    : signer_(std::move(signer)),
      verifier_(CosignatureVerifierFor(signer_)),
      store_(std::move(store)),
      now_seconds_(now_seconds ? std::move(now_seconds) : SecondsClock(SystemSeconds)) {}

Witness::~Witness() = default;

Status Witness::Create(const std::string& dir, std::string_view name) {
  FL_ASSIGN_OR_RETURN(NoteSigner signer, MakeNoteSigner(name, Ed25519PrivateKey::Generate()));
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return IoError("cannot create the witness directory " + dir + ": " + std::strerror(errno));
  }
  FL_RETURN_IF_ERROR(WriteSignerKeyFile(dir + std::string(kKeyFile), signer));
  return CosignedCheckpointStore::CreateLayout(dir);
}

Result<std::unique_ptr<Witness>> Witness::Open(WitnessOptions options) {
  FL_ASSIGN_OR_RETURN(NoteSigner signer, ReadSignerKeyFile(options.dir + std::string(kKeyFile)));
  FL_ASSIGN_OR_RETURN(CosignedCheckpointStore store, CosignedCheckpointStore::Open(options.dir));
  std::unique_ptr<Witness> w(
      new Witness(std::move(signer), std::move(store), std::move(options.now_seconds)));
  for (WatchedLog& log : options.config.logs) {
    if (w->logs_.contains(log.origin)) {
      return InvalidArgument("witness config lists the log '" + log.origin + "' twice");
    }
    auto slot = std::make_unique<LogSlot>();
    slot->log = std::move(log);
    FL_RETURN_IF_ERROR(w->LoadSlot(*slot));
    w->by_origin_hash_[OriginHashHex(slot->log.origin)] = slot.get();
    std::string origin = slot->log.origin;
    w->logs_.emplace(std::move(origin), std::move(slot));
  }
  return w;
}

// Reads back what was cosigned last and checks it is this witness's own cosignature.
Status Witness::LoadSlot(LogSlot& slot) {
  MutexLock lock(slot.mu);
  HeldState& held = slot.held;
  held = HeldState{0, EmptyTreeRoot(), 0, ""};
  FL_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.Read(slot.log.origin));
  if (!stored) return Status::Ok();
  auto bad = [&](const std::string& why) {
    return Corruption("the stored checkpoint of log '" + slot.log.origin + "' (logs/" +
                      OriginHashHex(slot.log.origin) + ") " + why);
  };
  Result<Note> note = ParseNote(*stored);
  if (!note.ok()) return bad("is not a note: " + note.status().message());
  Result<Checkpoint> cp = ParseCheckpoint(note->text);
  if (!cp.ok()) return bad("is not a checkpoint: " + cp.status().message());
  if (cp->origin != slot.log.origin) return bad("names another origin '" + cp->origin + "'");
  if (!VerifyNote(*note, verifier_).ok()) return bad("has no valid cosignature by this witness");
  for (const NoteSignature& s : note->signatures) {
    if (s.name != verifier_.name || s.key_id != verifier_.key_id) continue;
    FL_ASSIGN_OR_RETURN(uint64_t ts, CosignatureTimestamp(s));
    held.timestamp = std::max(held.timestamp, ts);
  }
  held.size = cp->size;
  held.root = cp->root;
  held.cosigned = std::move(*stored);
  return Status::Ok();
}

WitnessAnswer Witness::AddCheckpoint(std::string_view request_body) {
  Result<AddCheckpointRequest> request = ParseAddCheckpointRequest(request_body);
  if (!request.ok()) return ErrorAnswer(request.status());
  Result<Submission> submission = Verify(*request);
  if (!submission.ok()) return ErrorAnswer(submission.status());
  return Cosign(*submission, request_body);
}

// A note that does not parse is a bad request (400), unless what fails is the signature of a
// key trusted for its origin: the spec calls that note malformed too, and answers 403.
Status Witness::UnparsedNoteError(std::string_view checkpoint, const Status& why) const {
  size_t split = checkpoint.rfind("\n\n");
  if (split == std::string_view::npos) return why;
  auto it = logs_.find(checkpoint.substr(0, checkpoint.find('\n')));
  if (it == logs_.end()) return why;
  std::string_view lines = checkpoint.substr(split + 2);
  for (const NoteVerifier& key : it->second->log.keys) {
    std::string prefix = "\xe2\x80\x94 " + key.name + " ";  // "— <name> "
    for (size_t at = 0; (at = lines.find(prefix, at)) != std::string_view::npos; ++at) {
      if (at != 0 && lines[at - 1] != '\n') continue;
      std::string_view sig = lines.substr(at + prefix.size());
      if (!Base64Decode(sig.substr(0, sig.find('\n'))).ok()) {
        return PermissionDenied("the signature by " + key.name +
                                " is not valid base64: " + why.message());
      }
    }
  }
  return why;
}

// Everything that needs no state: the log is known, its signature verifies, the checkpoint
// parses, and old is not above its size.
Result<Witness::Submission> Witness::Verify(const AddCheckpointRequest& request) const {
  Result<Note> parsed = ParseNote(request.checkpoint);
  if (!parsed.ok()) return UnparsedNoteError(request.checkpoint, parsed.status());
  Note& note = *parsed;
  std::string_view origin = std::string_view(note.text).substr(0, note.text.find('\n'));
  auto it = logs_.find(origin);
  if (it == logs_.end()) {
    return NotFound("this witness does not watch a log with origin '" + std::string(origin) + "'");
  }
  Submission s{it->second.get(), {}, note.text, "", request.old_size, request.proof};
  for (const NoteSignature& sig : note.signatures) {
    for (const NoteVerifier& key : s.slot->log.keys) {
      if (sig.name != key.name || sig.key_id != key.key_id) continue;
      if (!key.key.Verify(AsBytes(note.text), sig.signature).ok()) {
        return PermissionDenied("the signature by " + key.name + " does not verify");
      }
      s.log_signatures += FormatSignatureLine(sig);
      break;
    }
  }
  if (s.log_signatures.empty()) {
    return PermissionDenied("the checkpoint carries no signature by a key trusted for '" +
                            std::string(origin) + "'");
  }
  FL_ASSIGN_OR_RETURN(s.checkpoint, ParseCheckpoint(note.text));
  if (request.old_size > s.checkpoint.size) {
    return InvalidArgument("old size " + std::to_string(request.old_size) +
                           " is above the checkpoint's size " + std::to_string(s.checkpoint.size));
  }
  return s;
}

Status Witness::CheckConsistency(const HeldState& held, const Submission& s) const {
  const Checkpoint& cp = s.checkpoint;
  if (cp.size == 0 && cp.root != EmptyTreeRoot()) {
    return RuleViolation("a checkpoint of size 0 must carry the empty tree's root");
  }
  if (s.old_size == 0) {
    if (s.proof.empty()) return Status::Ok();
    return RuleViolation("a consistency proof from size 0 must be empty");
  }
  if (!VerifyConsistency(s.old_size, cp.size, held.root, cp.root, s.proof).ok()) {
    if (s.old_size == cp.size) {
      return RuleViolation("the checkpoint of size " + std::to_string(cp.size) +
                           " has another root than the one this witness cosigned (a fork)");
    }
    return RuleViolation("the consistency proof from the cosigned size " +
                         std::to_string(s.old_size) + " to " + std::to_string(cp.size) +
                         " does not verify");
  }
  return Status::Ok();
}

// Under the log's lock: the check against what is held, the durable write, then the answer.
WitnessAnswer Witness::Cosign(const Submission& s, std::string_view request_body) {
  LogSlot& slot = *s.slot;
  MutexLock lock(slot.mu);
  HeldState& held = slot.held;
  if (s.old_size != held.size) return SizeConflictAnswer(held.size);
  Status consistent = CheckConsistency(held, s);
  if (!consistent.ok()) {
    store_.KeepEvidenceOnce(slot.log.origin, request_body);
    return ErrorAnswer(consistent);
  }
  // A later cosignature never carries an earlier time than one before it.
  uint64_t timestamp = std::max({now_seconds_(), held.timestamp, uint64_t{1}});
  if (timestamp > kTimestampMax) return ErrorAnswer(Internal("the witness clock is past 2^63-1"));
  assert(s.checkpoint.size >= held.size && "a witness never stores a smaller tree");
  std::string line = FormatSignatureLine(CosignNote(s.text, signer_, timestamp));
  std::string cosigned = s.text + "\n" + s.log_signatures + line;
  Status stored = store_.Write(slot.log.origin, cosigned);
  if (!stored.ok()) return ErrorAnswer(stored);
  held = HeldState{s.checkpoint.size, s.checkpoint.root, timestamp, std::move(cosigned)};
  return WitnessAnswer{200, std::string(kTextContentType), std::move(line)};
}

WitnessAnswer Witness::LatestCheckpoint(std::string_view origin_hash_hex) const {
  auto it = by_origin_hash_.find(origin_hash_hex);
  if (it == by_origin_hash_.end()) return ErrorAnswer(NotFound("no log with that origin hash"));
  MutexLock lock(it->second->mu);
  const HeldState& held = it->second->held;
  if (held.cosigned.empty()) return ErrorAnswer(NotFound("no checkpoint of that log cosigned yet"));
  return WitnessAnswer{200, std::string(kTextContentType), held.cosigned};
}

Result<Checkpoint> Witness::Held(std::string_view origin) const {
  auto it = logs_.find(origin);
  if (it == logs_.end())
    return NotFound("this witness does not watch '" + std::string(origin) + "'");
  MutexLock lock(it->second->mu);
  return Checkpoint{it->second->log.origin, it->second->held.size, it->second->held.root, {}};
}

}  // namespace fundledger
