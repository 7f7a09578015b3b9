// CheckpointPublisher: has each new checkpoint of the log cosigned by the witnesses of a C2SP
// tlog-policy (witness/witness_policy.h) and keeps the newest one that meets the policy's
// quorum: the published checkpoint, the one readers with that policy accept.
//
// The policy file names this log (a `log` line with its key) and its witnesses with their
// submission URLs (`witness <name> <vkey> <url>`); witnesses without a URL are counted when
// their cosignature arrives some other way but are never asked. Each round takes the log's
// latest signed checkpoint; if it is larger than the published one, every witness with a URL
// is asked (add-checkpoint with the consistency proof from the size it is believed to hold; a
// 409 resyncs from the size it reports), the lines that verify are merged into the note, and
// if the policy holds the note becomes the published checkpoint: written to `path` (temp file,
// fsync, rename) before anyone is served it. A checkpoint the quorum did not cosign is not
// published; the next round tries the log's newest again.
//
// Stored file (`path`): the published note exactly as served: the checkpoint text, an empty
// line, the log's signature line, then one cosignature/v1 line per witness. On start it is
// read back and checked against the policy; a file that does not pass is ignored (logged)
// and the publisher starts from nothing.
//
// Threads: Start runs rounds on its own thread, one every `round_interval` (a checkpoint is
// published at most that long after the log signed it; rounds with nothing new cost one read
// of the latest checkpoint); Published, Witnesses, RenderMetrics and RunRound are safe from
// any thread (RunRound is for tests and runs a round on the caller, serialised with the
// thread's).
//
//   FL_ASSIGN_OR_RETURN(auto publisher, CheckpointPublisher::Open(log, options));
//   publisher->Start();
//   std::optional<std::string> note = publisher->Published();
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/mutex.h"
#include "ledger/log.h"
#include "witness/witness_client.h"
#include "witness/witness_policy.h"

namespace fundledger {

struct CheckpointPublisherOptions {
  std::string path;  // where the published checkpoint is kept
  WitnessPolicy policy;
  WitnessTransport* transport = nullptr;  // not owned; outlives the publisher
  std::chrono::milliseconds round_interval{1'000};
  SecondsClock now_seconds;                     // empty: SystemSeconds
  std::function<void(const std::string&)> log;  // a line per round that did not publish; null: none
};

// What the publisher knows of one witness, for /metrics and /healthz.
struct WitnessProgress {
  std::string name;
  std::string url;         // empty: never asked
  uint64_t held_size = 0;  // the size it last cosigned for this log (0: unknown)
  uint64_t cosigned = 0;   // cosignatures received
  uint64_t failures = 0;   // rounds in which it did not cosign
  std::string last_error;  // empty after a success
};

class CheckpointPublisher {
 public:
  // Checks the policy names this log's key under its origin; reads the stored file.
  static Result<std::unique_ptr<CheckpointPublisher>> Open(const Log& log,
                                                           CheckpointPublisherOptions options);
  ~CheckpointPublisher();

  void Start();
  // One round now. Ok when there was nothing new or the newest checkpoint was published;
  // otherwise why not (which witnesses refused or could not be reached).
  Status RunRound();

  // The published note (checkpoint, log signature, cosignatures), or nullopt before the first.
  std::optional<std::string> Published() const;
  uint64_t published_size() const;
  std::vector<WitnessProgress> Witnesses() const;
  const WitnessPolicy& policy() const { return options_.policy; }
  // Prometheus text: the published size and, per witness, the size it holds, its
  // cosignatures and failed rounds.
  std::string RenderMetrics() const;

 private:
  CheckpointPublisher(const Log& log, CheckpointPublisherOptions options);
  Status Round();
  // Asks witness `i` for its cosignature line over `note`; records the outcome.
  Result<std::string> AskWitness(size_t i, const std::string& note);
  void Loop();

  const Log& log_;
  const CheckpointPublisherOptions options_;
  std::vector<WitnessClient> clients_;  // per policy witness; unused where it has no URL

  Mutex round_mu_;  // one round at a time
  mutable Mutex mu_;
  std::optional<std::string> published_ FL_GUARDED_BY(mu_);
  uint64_t published_size_ FL_GUARDED_BY(mu_) = 0;
  std::vector<WitnessProgress> progress_ FL_GUARDED_BY(mu_);

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by wake_mu_
  std::thread thread_;
};

}  // namespace fundledger
