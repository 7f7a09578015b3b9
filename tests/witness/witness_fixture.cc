#include "tests/witness/witness_fixture.h"

#include <gtest/gtest.h>

#include "crypto/checkpoint.h"

namespace fundledger::testing {

TestLog::TestLog(std::string origin, uint8_t seed_byte)
    : signer_(*MakeNoteSigner(origin, *Ed25519PrivateKey::FromSeed(Bytes(32, seed_byte)))) {}

void TestLog::Grow(uint64_t count, std::string_view tag) {
  for (uint64_t i = 0; i < count; ++i) {
    std::string leaf = std::string(tag) + " " + std::to_string(tree_.size());
    tree_.Append(HashLeaf(AsBytes(leaf)));
  }
}

std::string TestLog::Checkpoint(std::optional<uint64_t> size) const {
  uint64_t n = size.value_or(tree_.size());
  return SignNote(FormatCheckpoint({signer_.name, n, RootAt(n), {}}), signer_);
}

std::vector<Hash> TestLog::Proof(uint64_t old_size, uint64_t size) const {
  Result<std::vector<Hash>> proof = ConsistencyProof(tree_, old_size, size);
  EXPECT_TRUE(proof.ok()) << proof.status().ToString();
  return proof.ok() ? *proof : std::vector<Hash>{};
}

ConsistencyProofSource TestLog::Proofs() const {
  return
      [this](uint64_t old_size, uint64_t size) { return ConsistencyProof(tree_, old_size, size); };
}

std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              const std::string& checkpoint) {
  return FormatAddCheckpointRequest({old_size, proof, checkpoint});
}

TestWitness::TestWitness(std::string name, std::vector<WatchedLog> logs)
    : dir_(tmp_.Sub("witness")), logs_(std::move(logs)) {
  Status created = Witness::Create(dir_, name);
  EXPECT_TRUE(created.ok()) << created.ToString();
  Reopen();
}

WitnessOptions TestWitness::Options() {
  return WitnessOptions{dir_, WitnessConfig{logs_}, [this] { return now; }};
}

void TestWitness::Reopen() {
  witness_.reset();  // releases the directory lock first
  Result<std::unique_ptr<Witness>> w = Witness::Open(Options());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  witness_ = std::move(*w);
}

WitnessAnswer TestWitness::Submit(const TestLog& log, uint64_t old_size, uint64_t size) {
  std::vector<Hash> proof;
  if (old_size != 0 && old_size != size) proof = log.Proof(old_size, size);
  return witness_->AddCheckpoint(AddCheckpointBody(old_size, proof, log.Checkpoint(size)));
}

Result<WitnessAnswer> InProcessTransport::Post(const std::string& url, std::string_view body) {
  bodies.emplace_back(body);
  if (intercept) {
    if (std::optional<WitnessAnswer> a = intercept(url, body)) return *a;
  }
  for (const auto& [prefix, witness] : witnesses_) {
    if (url == prefix + std::string(kAddCheckpointPath)) return witness->AddCheckpoint(body);
  }
  return IoError("connection refused: nothing serves " + url);
}

bool CosignatureVerifies(const std::string& text, const std::string& line,
                         const NoteVerifier& witness) {
  Result<Note> note = ParseNote(text + "\n" + line);
  return note.ok() && note->signatures.size() == 1 && VerifyNote(*note, witness).ok();
}

}  // namespace fundledger::testing
