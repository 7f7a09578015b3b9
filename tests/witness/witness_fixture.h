// What the witness suites share: a log grown in memory that signs real checkpoints and proves
// consistency, a witness in a temporary directory with a clock the test sets, and a transport
// that hands requests straight to in-process witnesses.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/merkle.h"
#include "tests/temp_dir.h"
#include "witness/witness.h"
#include "witness/witness_client.h"

namespace fundledger::testing {

// Copyable: a copy grown with other leaves is a fork signed with the same key.
class TestLog {
 public:
  TestLog(std::string origin, uint8_t seed_byte);
  // Appends `count` leaves "<tag> <index>".
  void Grow(uint64_t count, std::string_view tag = "entry");
  uint64_t size() const { return tree_.size(); }
  Hash RootAt(uint64_t size) const { return *TreeRoot(tree_, size); }
  // The log's signed checkpoint at `size` (default: its whole tree).
  std::string Checkpoint(std::optional<uint64_t> size = std::nullopt) const;
  std::vector<Hash> Proof(uint64_t old_size, uint64_t size) const;
  ConsistencyProofSource Proofs() const;
  const NoteSigner& signer() const { return signer_; }
  WatchedLog Watched() const { return WatchedLog{signer_.name, {VerifierFor(signer_)}}; }

 private:
  NoteSigner signer_;
  MemoryTree tree_;
};

// The add-checkpoint body for `checkpoint` from `old_size` with `proof`.
std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              const std::string& checkpoint);

// A witness in a temporary directory; Reopen() restarts it on the same directory.
class TestWitness {
 public:
  TestWitness(std::string name, std::vector<WatchedLog> logs);
  Witness& operator*() { return *witness_; }
  Witness* operator->() { return witness_.get(); }
  void Reopen();
  void Close() { witness_.reset(); }
  const std::string& dir() const { return dir_; }
  WitnessOptions Options();
  // Submits `log`'s checkpoint at `size` from `old_size` with the right proof.
  WitnessAnswer Submit(const TestLog& log, uint64_t old_size, uint64_t size);

  uint64_t now = 1'750'000'000;  // the witness's clock, POSIX seconds

 private:
  TempDir tmp_;
  std::string dir_;
  std::vector<WatchedLog> logs_;
  std::unique_ptr<Witness> witness_;
};

// Routes POST <prefix>/add-checkpoint to the witness served at <prefix>. `intercept`, when
// set, answers instead (a witness that misbehaves, or is down).
class InProcessTransport : public WitnessTransport {
 public:
  void Serve(const std::string& prefix, Witness* witness) { witnesses_[prefix] = witness; }
  Result<WitnessAnswer> Post(const std::string& url, std::string_view body) override;

  std::function<std::optional<WitnessAnswer>(const std::string& url, std::string_view body)>
      intercept;
  std::vector<std::string> bodies;  // every body posted, in order

 private:
  std::map<std::string, Witness*> witnesses_;
};

// Whether `line` (one signature line) is a valid cosignature of `text` by `witness`.
bool CosignatureVerifies(const std::string& text, const std::string& line,
                         const NoteVerifier& witness);

}  // namespace fundledger::testing
