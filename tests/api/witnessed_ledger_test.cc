// Witnessed checkpoints end to end, as separate processes over HTTP: two `fundledger witness
// serve` and a ledger served with a witness policy. The ledger's published checkpoint carries
// both cosignatures, checked by an independent verifier written from the C2SP specifications
// (Node's own Ed25519, tests/witness/verify_cosigned_note.mjs); the log grows and the witnesses
// follow it across a restart; a copy of the ledger that diverged (a fork signed with the same
// key) is refused by both witnesses, so no reader whose policy names them can be shown it.
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/cli_ledger.h"
#include "api/http_witness_transport.h"
#include "crypto/checkpoint.h"
#include "tests/domain_fixture.h"
#include "tests/http_client.h"
#include "witness/witness_client.h"
#include "witness/witness_policy.h"

namespace fundledger::testing {
namespace {

namespace fs = std::filesystem;

constexpr auto kPublishDeadline = std::chrono::seconds(60);

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The value after "key: " in a command's output.
std::string KeyLine(const std::string& out) {
  size_t at = out.find("key: ");
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at + 5, end - at - 5);
}

class WitnessedLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_dir_ = tmp_.Sub("ledger");
    CommandResult init =
        RunCommand(CliPath() + " init --origin witnessed.fundledger.test --data " + ledger_dir_);
    ASSERT_EQ(init.exit_code, 0) << init.out;
    log_vkey_ = KeyLine(init.out);
    ASSERT_FALSE(log_vkey_.empty()) << init.out;
    std::string config = tmp_.Sub("witness.conf");
    WriteText(config, "origin witnessed.fundledger.test\nkey " + log_vkey_ + "\n");
    for (const char* name : {"office", "federation"}) {
      std::string dir = tmp_.Sub(std::string("witness-") + name);
      CommandResult w = RunCommand(CliPath() + " witness init --data " + dir + " --name " + name +
                                   ".witness.test");
      ASSERT_EQ(w.exit_code, 0) << w.out;
      witness_vkeys_.push_back(KeyLine(w.out));
      ServerProcessOptions o;
      o.command = "witness serve --data " + dir + " --config " + config;
      witnesses_.push_back(std::make_unique<ServerProcess>("", o));
      ASSERT_GT(witnesses_.back()->port(), 0);
    }
    policy_ = tmp_.Sub("policy.txt");
    WriteText(policy_, "log " + log_vkey_ + "\n" + "witness office " + witness_vkeys_[0] +
                           " http://127.0.0.1:" + std::to_string(witnesses_[0]->port()) + "\n" +
                           "witness federation " + witness_vkeys_[1] +
                           " http://127.0.0.1:" + std::to_string(witnesses_[1]->port()) + "\n" +
                           "group both all office federation\nquorum both\n");
  }

  // Waits (bounded) until the ledger at `port` serves a checkpoint of at least `size` that
  // meets the policy; returns it, or "" at the deadline.
  std::string AwaitPublished(int port, uint64_t size) {
    WitnessPolicy policy = *WitnessPolicy::ReadFile(policy_);
    HttpClient client(port);
    auto deadline = std::chrono::steady_clock::now() + kPublishDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      HttpResult r = client.Request("GET", "/v1/checkpoint");
      Result<PublishedCheckpoint> p = CheckPolicy(r.body, policy);
      if (r.status == 200 && p.ok() && p->checkpoint.size >= size) return r.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling for a state
    }
    return "";
  }

  // The independent verifier's verdict on `note`.
  CommandResult VerifyIndependently(const std::string& note) {
    std::string path = tmp_.Sub("note.txt");
    WriteText(path, note);
    return RunCommand(std::string(FUNDLEDGER_NODE_PATH) + " " + FUNDLEDGER_SOURCE_DIR +
                      "/tests/witness/verify_cosigned_note.mjs " + path + " " + log_vkey_ + " " +
                      witness_vkeys_[0] + " " + witness_vkeys_[1]);
  }

  void PostFund(const std::string& dir, const std::string& fund) {
    CommandResult post = RunCommand(CliPath() + " post FundOpened --data " + dir +
                                    " --json '{\"fund_id\":\"" + fund + "\",\"name\":\"" + fund +
                                    "\",\"organisation\":\"bureau\",\"currency\":\"CNY\"}' --key " +
                                    fund + " --actor admin --role admin");
    ASSERT_EQ(post.exit_code, 0) << post.out;
  }

  TempDir tmp_;
  std::string ledger_dir_, log_vkey_, policy_;
  std::vector<std::string> witness_vkeys_;
  std::vector<std::unique_ptr<ServerProcess>> witnesses_;
};

TEST_F(WitnessedLedgerTest, CheckpointsAreCosignedByBothWitnessesAndAForkIsRefused) {
  std::string fork_dir = tmp_.Sub("fork");
  fs::copy(ledger_dir_, fork_dir, fs::copy_options::recursive);
  fs::copy(VaultKeyDir(ledger_dir_), VaultKeyDir(fork_dir), fs::copy_options::recursive);
  uint64_t first_size = 0;
  {
    ServerProcess ledger(ledger_dir_, "--witness-policy " + policy_);
    ASSERT_GT(ledger.port(), 0);
    std::string note = AwaitPublished(ledger.port(), 1);
    ASSERT_FALSE(note.empty()) << "no cosigned checkpoint within the deadline";
    CommandResult independent = VerifyIndependently(note);
    EXPECT_EQ(independent.exit_code, 0) << independent.out;
    EXPECT_NE(independent.out.find("ok"), std::string::npos) << independent.out;
    std::string tampered = note;
    size_t at = tampered.rfind("\xe2\x80\x94 federation") + 40;  // inside its signature
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    EXPECT_EQ(VerifyIndependently(tampered).exit_code, 1);
    Result<Checkpoint> cp = OpenCheckpoint(note, *ParseVerifierKey(log_vkey_));
    ASSERT_TRUE(cp.ok()) << note;
    first_size = cp->size;
    // /metrics shows what each witness holds and has cosigned.
    std::string metrics = HttpClient(ledger.port()).Request("GET", "/metrics").body;
    EXPECT_NE(metrics.find("fundledger_published_checkpoint_size " + std::to_string(first_size)),
              std::string::npos)
        << metrics;
    for (const std::string name : {"office", "federation"}) {
      EXPECT_NE(metrics.find("fundledger_witness_held_size{witness=\"" + name + "\"} " +
                             std::to_string(first_size)),
                std::string::npos)
          << metrics;
      EXPECT_NE(metrics.find("fundledger_witness_failures_total{witness=\"" + name + "\"} 0"),
                std::string::npos)
          << metrics;
    }
    ASSERT_EQ(ledger.Terminate(), 0);
  }
  // The log grows while the server is down; after a restart the witnesses are shown the
  // consistency proof from what they hold, and cosign the larger tree.
  PostFund(ledger_dir_, "F-GROWN");
  {
    ServerProcess ledger(ledger_dir_, "--witness-policy " + policy_);
    std::string note = AwaitPublished(ledger.port(), first_size + 1);
    ASSERT_FALSE(note.empty()) << "the grown log was not cosigned within the deadline";
    EXPECT_EQ(VerifyIndependently(note).exit_code, 0);
    ASSERT_EQ(ledger.Terminate(), 0);
  }

  // The fork: same origin and key, another entry at the same index. Each witness refuses it.
  PostFund(fork_dir, "F-FORKED");
  Result<std::unique_ptr<Log>> fork = OpenLogReadOnly(fork_dir);
  ASSERT_TRUE(fork.ok()) << fork.status().ToString();
  std::string forked_note = *(*fork)->LatestCheckpoint();
  HttpWitnessTransport transport({});
  for (size_t i = 0; i < witnesses_.size(); ++i) {
    WitnessClient client({*ParseVerifierKey(witness_vkeys_[i]),
                          "http://127.0.0.1:" + std::to_string(witnesses_[i]->port())},
                         &transport);
    Result<WitnessCosignature> c =
        client.RequestCosignature(forked_note, first_size, [&](uint64_t old_size, uint64_t size) {
          return (*fork)->ProveConsistency(old_size, size);
        });
    ASSERT_FALSE(c.ok()) << "witness " << i << " cosigned a fork";
    EXPECT_EQ(c.status().rule(), "witness_inconsistent") << c.status().ToString();
  }
}

}  // namespace
}  // namespace fundledger::testing
