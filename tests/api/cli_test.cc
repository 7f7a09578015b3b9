// The `fundledger` binary as an auditor uses it: its checkpoint verifies with its key, its
// proofs verify against that checkpoint, and bad requests get clear errors and exit codes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "crypto/checkpoint.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

namespace json = boost::json;
using testing::CliPath;
using testing::RunCommand;
using testing::TempDir;

std::vector<Hash> Hashes(const json::value& v) {
  std::vector<Hash> out;
  for (const json::value& h : v.as_array()) out.push_back(*HashFromHex(std::string(h.as_string())));
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("ledger");
    testing::CommandResult init = Cli("init --origin cli.fundledger.local");
    ASSERT_EQ(init.exit_code, 0) << init.out;
    std::unique_ptr<Log> log = std::move(Log::Open(dir_)).value();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(log->Append(testing::MemoSubmission("k" + std::to_string(i),
                                                      {"memo " + std::to_string(i)}))
                      .ok());
    }
    ASSERT_TRUE(log->Close().ok());
  }

  testing::CommandResult Cli(const std::string& args) {
    return RunCommand(CliPath() + " " + args + " --data " + dir_);
  }

  NoteVerifier Key() {
    testing::CommandResult key = Cli("key");
    EXPECT_EQ(key.exit_code, 0);
    return *ParseVerifierKey(key.out.substr(0, key.out.find('\n')));
  }

  TempDir tmp_;
  std::string dir_;
};

// What init makes is a ledger the other commands take as it is: its vault key is there, outside
// the data directory, and init says where.
TEST_F(CliTest, AnInitialisedLedgerTakesPostsAtOnce) {
  std::string fresh = tmp_.Sub("fresh");
  testing::CommandResult init =
      RunCommand(CliPath() + " init --origin fresh.fundledger.local --data " + fresh);
  ASSERT_EQ(init.exit_code, 0) << init.out;
  EXPECT_FALSE(std::filesystem::exists(fresh + "/vault.key"));
  EXPECT_TRUE(std::filesystem::exists(fresh + ".keys/vault.key"));
  EXPECT_NE(init.out.find("vault master key: " + fresh + ".keys/vault.key"), std::string::npos)
      << init.out;
  EXPECT_NE(init.out.find("back it up separately"), std::string::npos) << init.out;
  testing::CommandResult post = RunCommand(
      CliPath() + " post FundOpened --data " + fresh +
      " --json "
      "'{\"fund_id\":\"F1\",\"name\":\"F1\",\"organisation\":\"bureau\",\"currency\":\"CNY\"}'"
      " --key f1 --actor admin --role admin");
  EXPECT_EQ(post.exit_code, 0) << post.out;
  testing::CommandResult balance = RunCommand(CliPath() + " balance --fund F1 --data " + fresh);
  EXPECT_EQ(balance.exit_code, 0) << balance.out;
  EXPECT_EQ(RunCommand(CliPath() + " verify --data " + fresh).exit_code, 0);
}

TEST_F(CliTest, CheckpointVerifiesWithTheKeyAndVerifyPasses) {
  testing::CommandResult cp = Cli("checkpoint");
  ASSERT_EQ(cp.exit_code, 0);
  Result<Checkpoint> checkpoint = OpenCheckpoint(cp.out, Key());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString() << "\n" << cp.out;
  EXPECT_EQ(checkpoint->size, 21u);
  testing::CommandResult verify = Cli("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("valid: 21 entries"), std::string::npos) << verify.out;
  // Verifying against a key the auditor trusts, and against a different one.
  EXPECT_EQ(Cli("verify --vkey " + FormatVerifierKey(Key())).exit_code, 0);
  NoteSigner other = *MakeNoteSigner("cli.fundledger.local", Ed25519PrivateKey::Generate());
  testing::CommandResult wrong = Cli("verify --vkey " + FormatVerifierKey(VerifierFor(other)));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("INVALID at entry 0"), std::string::npos) << wrong.out;
  // Any number of threads gives the same verdict; a count out of range is refused.
  for (const char* threads : {"1", "3"}) {
    testing::CommandResult t = Cli(std::string("verify --threads ") + threads);
    EXPECT_EQ(t.exit_code, 0) << t.out;
    EXPECT_NE(t.out.find("valid: 21 entries"), std::string::npos) << t.out;
  }
  testing::CommandResult too_many = Cli("verify --threads 1000");
  EXPECT_NE(too_many.exit_code, 0);
  EXPECT_NE(too_many.out.find("--threads"), std::string::npos) << too_many.out;
}

TEST_F(CliTest, InclusionProofVerifiesAgainstTheSignedCheckpoint) {
  Checkpoint cp = *OpenCheckpoint(Cli("checkpoint").out, Key());
  for (uint64_t index : {0u, 7u, 20u}) {
    testing::CommandResult r = Cli("prove inclusion --index " + std::to_string(index));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    json::object o = json::parse(r.out).as_object();
    EXPECT_EQ(o.at("index").to_number<uint64_t>(), index);
    EXPECT_EQ(o.at("size").to_number<uint64_t>(), cp.size);
    Hash leaf = *HashFromHex(std::string(o.at("leaf_hash").as_string()));
    EXPECT_TRUE(VerifyInclusion(index, cp.size, leaf, Hashes(o.at("proof")), cp.root).ok());
    // The leaf hash is the hash of the raw entry bytes `entry` prints.
    json::object e = json::parse(Cli("entry --index " + std::to_string(index)).out).as_object();
    Bytes raw = *Base64Decode(std::string(e.at("raw").as_string()));
    EXPECT_EQ(HashLeaf(raw), leaf);
    EXPECT_EQ(e.at("index").to_number<uint64_t>(), index);
  }
  testing::CommandResult sized = Cli("prove inclusion --index 3 --size 10");
  ASSERT_EQ(sized.exit_code, 0);
  EXPECT_EQ(json::parse(sized.out).at("size").to_number<uint64_t>(), 10u);
}

TEST_F(CliTest, ConsistencyProofVerifies) {
  Checkpoint cp = *OpenCheckpoint(Cli("checkpoint").out, Key());
  testing::CommandResult r = Cli("prove consistency --old 5");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  json::object o = json::parse(r.out).as_object();
  EXPECT_EQ(o.at("old").to_number<uint64_t>(), 5u);
  Hash old_root = *HashFromHex(std::string(o.at("old_root").as_string()));
  EXPECT_TRUE(VerifyConsistency(5, cp.size, old_root, cp.root, Hashes(o.at("proof"))).ok());
}

TEST_F(CliTest, BadRequestsFailWithClearMessages) {
  testing::CommandResult beyond = Cli("entry --index 99");
  EXPECT_NE(beyond.exit_code, 0);
  EXPECT_NE(beyond.out.find("entry 99 does not exist (log size 21)"), std::string::npos)
      << beyond.out;
  testing::CommandResult zero = Cli("prove consistency --old 0");
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.out.find("old size must be >= 1"), std::string::npos) << zero.out;
  testing::CommandResult big = Cli("prove inclusion --index 1 --size 500");
  EXPECT_NE(big.exit_code, 0);
  EXPECT_NE(big.out.find("beyond the log size"), std::string::npos) << big.out;
  testing::CommandResult none = RunCommand(CliPath() + " verify --data " + tmp_.Sub("nothing"));
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("no ledger at"), std::string::npos) << none.out;
  EXPECT_EQ(Cli("init --origin again").exit_code, 1);
  EXPECT_NE(
      RunCommand(CliPath() + " init --data " + tmp_.Sub("x") + " --origin 'has space'").exit_code,
      0);
}

// A number too long for 64 bits is unusable input naming the option (CLI11 alone would read it
// as the largest number and ask for entry 18446744073709551615).
TEST_F(CliTest, OverLongNumbersAreRefusedNamingTheOption) {
  const std::string huge = "99999999999999999999999";
  for (const std::string& args :
       {"entry --index " + huge, "prove inclusion --index " + huge,
        "prove inclusion --index 1 --size " + huge, "prove consistency --old " + huge,
        "replay --to " + huge, "audit export --out x --from " + huge}) {
    testing::CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    std::string option = args.substr(args.rfind("--"), args.rfind(' ') - args.rfind("--"));
    EXPECT_NE(r.out.find(option + ": must be a whole number"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace fundledger
