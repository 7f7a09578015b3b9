// Audit bundles as an auditor uses them, and as an attacker would change them: every change to
// an entry, the order, the tail or a signature is found and named; a rolled-back or forked log
// fails against a checkpoint kept from an earlier visit.
#include "replay/bundle.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "crypto/tlog_tiles.h"
#include "tests/domain_fixture.h"
#include "witness/witness.h"

namespace fundledger::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class BundleTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F1", "general", 100'000'000);
    for (int i = 0; i < 60; ++i) {
      Register("B" + std::to_string(i));
      Enroll("B" + std::to_string(i), "dibao", 104500);
    }
    for (int32_t month = 202501; month <= 202506; ++month) {
      std::vector<RollLine> lines;
      for (int i = 0; i < 60; ++i)
        lines.push_back(
            {static_cast<uint32_t>(i + 1), "B" + std::to_string(i), "dibao", month, 104500});
      Ok(Prepare("R" + std::to_string(month), "F1", "general", month, lines));
      Ok(Approve("R" + std::to_string(month)));
    }
    // Enough small entries to span several entry bundles.
    for (int i = 0; i < 4; ++i) {
      Submission memos;
      for (int j = 0; j < 150; ++j)
        memos.entries.push_back(MemoEntry("note " + std::to_string(i * 1000 + j)));
      ASSERT_TRUE(ledger_->log().Append(std::move(memos)).ok());
    }
    ASSERT_GT(ledger_->log().size(), 700u);
    pristine_ = tmp_.Sub("pristine");
    ASSERT_TRUE(ExportBundle(ledger_->log(), pristine_, 0, std::nullopt).ok());
  }

  std::string Copy(const std::string& name) {
    std::string dest = tmp_.Sub(name);
    fs::remove_all(dest);
    fs::copy(pristine_, dest, fs::copy_options::recursive);
    return dest;
  }
  // Rewrites entry bundle `tile` with `mutate` applied to its entries.
  void MutateBundle(const std::string& dir, uint64_t tile,
                    const std::function<void(std::vector<Bytes>&)>& mutate) {
    uint64_t size = ledger_->log().size();
    uint64_t width = std::min<uint64_t>(kTileWidth, size - tile * kTileWidth);
    std::string path = dir + "/" + EntryBundlePath(tile, width);
    std::vector<Bytes> entries = *DecodeEntryBundle(AsBytes(ReadAll(path)), width);
    mutate(entries);
    WriteAll(path, EncodeEntryBundle(std::vector<ByteView>(entries.begin(), entries.end())));
  }

  std::string pristine_;
};

TEST_F(BundleTest, APristineBundleVerifiesAndRebuildsTheSameProjections) {
  BundleVerifyReport r = VerifyBundle(pristine_, {});
  ASSERT_EQ(r.status, VerifyStatus::kValid) << r.reason;
  EXPECT_EQ(r.to, ledger_->log().size());
  EXPECT_GT(r.checkpoints, 10u);
  EXPECT_EQ(r.consistency_proofs, r.checkpoints - 1);
  ASSERT_TRUE(r.rebuilt.has_value());
  EXPECT_EQ(HashHex(r.rebuilt->digest), HashHex(projections().digest()));
  EXPECT_EQ(r.rebuilt->fund_balances.at("fund/F1/general").posted_fen,
            FundBalance("F1", "general").posted_fen);
}

TEST_F(BundleTest, EveryTamperingIsFoundAtTheRightEntry) {
  std::mt19937_64 rng(0xB0D1E);
  const uint64_t size = ledger_->log().size();
  int trials = 0, detected = 0;
  auto expect = [&](const std::string& dir, uint64_t index, const std::string& what) {
    BundleVerifyReport r = VerifyBundle(dir, {});
    ++trials;
    bool ok = r.status == VerifyStatus::kInvalid && r.bad_index == index;
    detected += ok;
    EXPECT_TRUE(ok) << what << ": expected entry " << index << ", got status "
                    << static_cast<int>(r.status) << " at " << r.bad_index << ": " << r.reason;
  };
  for (int t = 0; t < 10; ++t) {
    std::string dir = Copy("flip" + std::to_string(t));
    uint64_t index = rng() % size;
    MutateBundle(dir, index / kTileWidth, [&](std::vector<Bytes>& e) {
      Bytes& b = e[index % kTileWidth];
      b[rng() % b.size()] ^= static_cast<uint8_t>(1 << (rng() % 8));
    });
    expect(dir, index, "flipped byte");
  }
  for (int t = 0; t < 5; ++t) {
    std::string dir = Copy("swap" + std::to_string(t));
    uint64_t tile = rng() % (size / kTileWidth);
    uint64_t a = rng() % 200, b = a + 1 + rng() % 50;
    MutateBundle(dir, tile, [&](std::vector<Bytes>& e) { std::swap(e[a], e[b]); });
    expect(dir, tile * kTileWidth + a, "swapped entries");
  }
  for (int t = 0; t < 5; ++t) {
    std::string dir = Copy("drop" + std::to_string(t));
    uint64_t tile = rng() % (size / kTileWidth);
    uint64_t a = rng() % 256;
    MutateBundle(dir, tile,
                 [&](std::vector<Bytes>& e) { e.erase(e.begin() + static_cast<long>(a)); });
    expect(dir, tile * kTileWidth, "dropped entry");  // the bundle no longer holds 256 entries
  }
  {
    // A checkpoint re-signed with another key.
    std::string dir = Copy("resign");
    NoteSigner forger = *MakeNoteSigner(ledger_->log().origin(), Ed25519PrivateKey::Generate());
    BundleManifest m = (*BundleSource::Open(dir))->manifest();
    uint64_t cp = m.checkpoints[m.checkpoints.size() / 2];
    char name[32];
    std::snprintf(name, sizeof name, "%020llu", static_cast<unsigned long long>(cp));
    std::string path = dir + "/checkpoints/" + name;
    WriteAll(path, SignNote(ParseNote(ReadAll(path))->text, forger));
    expect(dir, cp - 1, "re-signed checkpoint");
  }
  std::cout << "bundle tamper: " << trials << " trials, " << detected
            << " detected at the right entry\n";
}

TEST_F(BundleTest, RolledBackOrForkedLogsFailAgainstAKeptCheckpoint) {
  std::string kept = *ledger_->log().LatestCheckpoint();
  // Later the log grows: the auditor's old checkpoint is consistent with the new bundle.
  Appropriate("F1", "general", 5);
  std::string newer = tmp_.Sub("newer");
  ASSERT_TRUE(ExportBundle(ledger_->log(), newer, 0, std::nullopt).ok());
  BundleVerifyOptions with_kept;
  with_kept.trusted_checkpoint = kept;
  BundleVerifyReport r = VerifyBundle(newer, with_kept);
  EXPECT_EQ(r.status, VerifyStatus::kValid) << r.reason;

  // Rolled back: the bureau hands over an older bundle than what the auditor already saw.
  BundleVerifyOptions with_newest;
  with_newest.trusted_checkpoint = *ledger_->log().LatestCheckpoint();
  r = VerifyBundle(pristine_, with_newest);
  EXPECT_EQ(r.status, VerifyStatus::kInvalid);
  EXPECT_NE(r.reason.find("ROLLED BACK"), std::string::npos) << r.reason;

  // Forked: the same store copied, then two different histories signed by the same key.
  ASSERT_TRUE(ledger_->Close().ok());
  ledger_.reset();
  projections_ = std::make_unique<Projections>();
  std::string fork_dir = tmp_.Sub("fork");
  fs::copy(dir_, fork_dir, fs::copy_options::recursive);
  fs::copy(VaultKeyDir(dir_), VaultKeyDir(fork_dir), fs::copy_options::recursive);
  uint64_t fork_point = 0;
  std::string branch_a_checkpoint;
  {
    Projections p;
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(dir_, WithProjections(p, {}));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<Ledger> a = std::move(opened).value();
    fork_point = a->log().size();
    ASSERT_TRUE(a->log().Append(MemoSubmission("a", {"branch A"})).ok());
    branch_a_checkpoint = *a->log().LatestCheckpoint();
  }
  std::string fork_bundle = tmp_.Sub("fork_bundle");
  {
    Projections p;
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(fork_dir, WithProjections(p, {}));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<Ledger> b = std::move(opened).value();
    ASSERT_TRUE(b->log().Append(MemoSubmission("b", {"branch B, different"})).ok());
    ASSERT_TRUE(b->log().Append(MemoSubmission("b2", {"more of B"})).ok());
    ASSERT_TRUE(ExportBundle(b->log(), fork_bundle, 0, std::nullopt).ok());
  }
  BundleVerifyOptions with_a;
  with_a.trusted_checkpoint = branch_a_checkpoint;
  r = VerifyBundle(fork_bundle, with_a);
  EXPECT_EQ(r.status, VerifyStatus::kInvalid);
  EXPECT_NE(r.reason.find("FORKED"), std::string::npos) << r.reason;
  EXPECT_EQ(r.bad_index, fork_point);
  Reopen();
}

TEST_F(BundleTest, APartialBundleVerifiesFromItsFirstTileAndAWrongKeyFails) {
  std::string part = tmp_.Sub("part");
  Result<BundleManifest> m = ExportBundle(ledger_->log(), part, 300, std::nullopt);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->from, 256u);
  BundleVerifyReport r = VerifyBundle(part, {});
  EXPECT_EQ(r.status, VerifyStatus::kValid) << r.reason;
  EXPECT_FALSE(r.rebuilt.has_value());
  BundleVerifyOptions wrong;
  wrong.trusted_key =
      VerifierFor(*MakeNoteSigner(ledger_->log().origin(), Ed25519PrivateKey::Generate()));
  r = VerifyBundle(part, wrong);
  EXPECT_EQ(r.status, VerifyStatus::kInvalid);
  EXPECT_NE(r.reason.find("not by the key you trust"), std::string::npos) << r.reason;
  EXPECT_EQ(VerifyBundle(tmp_.Sub("nothing"), {}).status, VerifyStatus::kUnusable);
}

TEST_F(BundleTest, CliProveAndVerifyExitCodes) {
  uint64_t index = ledger_->log().size() / 2;
  CommandResult prove = RunCommand(CliPath() + " audit prove --bundle " + pristine_ + " --index " +
                                   std::to_string(index));
  EXPECT_EQ(prove.exit_code, 0) << prove.out;
  EXPECT_NE(prove.out.find("VERIFIED"), std::string::npos) << prove.out;
  std::string pinned = " --vkey " + ledger_->log().vkey();
  EXPECT_EQ(RunCommand(CliPath() + " audit verify " + pristine_ + pinned).exit_code, 0);
  std::string broken = Copy("cli_broken");
  MutateBundle(broken, 1, [](std::vector<Bytes>& e) { e[7][20] ^= 1; });
  CommandResult bad = RunCommand(CliPath() + " audit verify " + broken + pinned);
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("INVALID at entry 263"), std::string::npos) << bad.out;
  EXPECT_EQ(RunCommand(CliPath() + " audit verify " + tmp_.Sub("missing") + pinned).exit_code, 2);
}

// The key inside a bundle proves nothing about who wrote it: without a key or a policy the
// auditor gives, audit verify refuses; with a policy, the latest checkpoint must also carry
// the cosignatures of the policy's quorum of witnesses.
TEST_F(BundleTest, AuditVerifyTrustsOnlyAKeyOrAPolicyTheAuditorGives) {
  CommandResult unpinned = RunCommand(CliPath() + " audit verify " + pristine_);
  EXPECT_EQ(unpinned.exit_code, 2) << unpinned.out;
  EXPECT_NE(unpinned.out.find("--vkey KEY"), std::string::npos) << unpinned.out;
  EXPECT_NE(unpinned.out.find("--policy FILE"), std::string::npos) << unpinned.out;

  std::string vkey = ledger_->log().vkey();
  std::string witness_dir = tmp_.Sub("witness");
  ASSERT_TRUE(Witness::Create(witness_dir, "audit-office.example/witness").ok());
  WitnessOptions options{witness_dir, {}, {}};
  options.config.logs.push_back({ledger_->log().origin(), {*ParseVerifierKey(vkey)}});
  Result<std::unique_ptr<Witness>> witness = Witness::Open(options);
  ASSERT_TRUE(witness.ok()) << witness.status().ToString();
  std::string other_dir = tmp_.Sub("other-witness");
  ASSERT_TRUE(Witness::Create(other_dir, "federation.example/witness").ok());
  Result<std::unique_ptr<Witness>> other = Witness::Open({other_dir, options.config, {}});
  ASSERT_TRUE(other.ok());

  auto verify_with = [&](const std::string& bundle, const std::string& policy) {
    std::string path = tmp_.Sub("policy.txt");
    WriteAll(path, policy);
    return RunCommand(CliPath() + " audit verify " + bundle + " --policy " + path);
  };
  CommandResult key_only = verify_with(pristine_, "log " + vkey + "\nquorum none\n");
  EXPECT_EQ(key_only.exit_code, 0) << key_only.out;
  EXPECT_NE(key_only.out.find("published under the policy (quorum none)"), std::string::npos)
      << key_only.out;

  std::string by_office =
      "log " + vkey + "\nwitness office " + (*witness)->VerifierKey() + "\nquorum office\n";
  CommandResult uncosigned = verify_with(pristine_, by_office);
  EXPECT_EQ(uncosigned.exit_code, 1) << uncosigned.out;
  EXPECT_NE(uncosigned.out.find("NOT PUBLISHED"), std::string::npos) << uncosigned.out;

  // The witness cosigns the bundle's checkpoint; the auditor's policy now holds.
  std::string cosigned = Copy("cosigned");
  std::string note = ReadAll(cosigned + "/checkpoint");
  WitnessAnswer answer = (*witness)->AddCheckpoint(FormatAddCheckpointRequest({0, {}, note}));
  ASSERT_EQ(answer.status, 200) << answer.body;
  WriteAll(cosigned + "/checkpoint", note + answer.body);
  CommandResult published = verify_with(cosigned, by_office);
  EXPECT_EQ(published.exit_code, 0) << published.out;
  EXPECT_NE(published.out.find("cosigned by office"), std::string::npos) << published.out;

  // A policy that asks for both witnesses is not met by one.
  std::string both = "log " + vkey + "\nwitness office " + (*witness)->VerifierKey() +
                     "\nwitness federation " + (*other)->VerifierKey() +
                     "\ngroup both all office federation\nquorum both\n";
  CommandResult half = verify_with(cosigned, both);
  EXPECT_EQ(half.exit_code, 1) << half.out;

  // A policy for another log's key: refused before anything is read as trusted.
  std::string stranger = FormatVerifierKey(
      VerifierFor(*MakeNoteSigner(ledger_->log().origin(), Ed25519PrivateKey::Generate())));
  CommandResult wrong = verify_with(pristine_, "log " + stranger + "\nquorum none\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
}

}  // namespace
}  // namespace fundledger::testing
