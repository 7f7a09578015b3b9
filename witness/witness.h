// A C2SP tlog-witness (c2sp.org/tlog-witness) without the sockets: it cosigns a log's
// checkpoint only when it is consistent with every checkpoint of that log it cosigned before.
//
// It holds its own Ed25519 key (DIR/witness.key), the logs it watches (WitnessConfig), and per
// log the latest checkpoint it cosigned (CosignedCheckpointStore), made durable before any
// cosignature leaves. AddCheckpoint() answers an add-checkpoint request body exactly as the
// spec says (statuses and bodies in witness_protocol.h); an HTTP server passes the body in and
// the answer out. Cosignatures are cosignature/v1 (Ed25519), timestamped in POSIX seconds;
// a log's timestamps never go backwards, even if the clock does.
//
// Threads: any thread may call any method. Requests for one log are serialised by that log's
// lock, so checking "old" and storing the new size are one atomic step (no rollback race);
// requests for different logs run in parallel. One process opens a directory at a time.
//
//   FL_RETURN_IF_ERROR(Witness::Create(dir, "audit.example.gov.cn/witness"));
//   FL_ASSIGN_OR_RETURN(auto w, Witness::Open({dir, config}));
//   WitnessAnswer a = w->AddCheckpoint(request_body);  // a.status, a.content_type, a.body
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/checkpoint.h"
#include "crypto/mutex.h"
#include "witness/cosigned_checkpoint_store.h"
#include "witness/witness_config.h"
#include "witness/witness_protocol.h"

namespace fundledger {

struct WitnessOptions {
  std::string dir;
  WitnessConfig config;
  SecondsClock now_seconds;  // empty: SystemSeconds
};

class Witness {
 public:
  // Makes DIR (which must not exist) with a new key named `name` and empty state.
  static Status Create(const std::string& dir, std::string_view name);
  // Reads the key and the state of every configured log, checking each stored checkpoint
  // carries this witness's valid cosignature.
  static Result<std::unique_ptr<Witness>> Open(WitnessOptions options);
  ~Witness();

  // The cosignature verifier key (signature type 0x04) to publish: "<name>+<id>+<base64>".
  std::string VerifierKey() const { return FormatVerifierKey(verifier_); }
  const NoteVerifier& verifier() const { return verifier_; }

  // POST <submission prefix>/add-checkpoint.
  WitnessAnswer AddCheckpoint(std::string_view request_body);
  // GET <monitoring prefix>/<origin hash>/checkpoint: the latest cosigned checkpoint with the
  // log's verified signature(s) and this witness's cosignature; 404 if never cosigned.
  WitnessAnswer LatestCheckpoint(std::string_view origin_hash_hex) const;
  // The size and root held for `origin` (size 0 and the empty root before the first
  // cosignature); NotFound for a log it does not watch.
  Result<Checkpoint> Held(std::string_view origin) const;

 private:
  struct HeldState {
    uint64_t size = 0;
    Hash root{};
    uint64_t timestamp = 0;  // of the last cosignature; 0 before the first
    std::string cosigned;    // the stored note; empty before the first cosignature
  };
  struct LogSlot {
    WatchedLog log;
    mutable Mutex mu;
    HeldState held FL_GUARDED_BY(mu);
  };
  struct Submission;  // a request whose log signature verified

  Witness(NoteSigner signer, CosignedCheckpointStore store, SecondsClock now_seconds);
  Status LoadSlot(LogSlot& slot);
  Result<Submission> Verify(const AddCheckpointRequest& request) const;
  Status UnparsedNoteError(std::string_view checkpoint, const Status& why) const;
  WitnessAnswer Cosign(const Submission& submission, std::string_view request_body);
  Status CheckConsistency(const HeldState& held, const Submission& submission) const;

  const NoteSigner signer_;
  const NoteVerifier verifier_;  // cosignature/v1 form of signer_'s key
  CosignedCheckpointStore store_;
  const SecondsClock now_seconds_;
  // Built by Open and never changed after: lookups need no lock.
  std::map<std::string, std::unique_ptr<LogSlot>, std::less<>> logs_;
  std::map<std::string, const LogSlot*, std::less<>> by_origin_hash_;
};

}  // namespace fundledger
