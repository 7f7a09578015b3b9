// Signed actions through the `fundledger` binary: keys as files, a signing ledger that refuses
// the unsigned CLI approval of issue 19, and `verify` naming an approval forged by whoever holds
// the data directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "ledger/entry_codec.h"
#include "ledger/events.h"
#include "ledger/log.h"
#include "tests/test_util.h"

namespace fundledger {
namespace {

using testing::CliPath;
using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

// The value after `label ` on its line of `out`.
std::string Field(const std::string& out, const std::string& label) {
  size_t at = out.find(label + " ");
  if (at == std::string::npos) return "";
  at += label.size() + 1;
  return out.substr(at, out.find('\n', at) - at);
}

// checker.wang's approval of ROLL-2025-01 appended with the data directory alone (no rules, no
// keys), as a thief of it could; its index.
uint64_t AppendForgedApproval(const std::string& dir) {
  std::unique_ptr<Log> log = std::move(Log::Open(dir)).value();
  fb::DisbursementBatchApprovedT a;
  a.batch_id = "ROLL-2025-01";
  a.document = "ok";
  Submission s;
  s.idempotency_key = "forged";
  s.entries.push_back(NewEntry{"checker.wang", fb::Role::checker,
                               fb::EventType::DisbursementBatchApproved, EncodeEvent(a)});
  Result<AppendResult> r = log->Append(std::move(s));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(log->Close().ok());
  return r.ok() ? r->first_index : 0;
}

class CliSigned : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("ledger");
    ASSERT_EQ(Cli("init --origin signed.fundledger.local").exit_code, 0);
    for (const char* who : {"admin.zhao", "checker.wang"}) {
      CommandResult made =
          RunCommand(CliPath() + " keygen --actor " + who + " --out " + KeyFile(who));
      ASSERT_EQ(made.exit_code, 0) << made.out;
      public_[who] = Field(made.out, "public key");
    }
    // The first admin key is registered unsigned, before signing is required; then signed.
    ASSERT_EQ(Keys("register --for admin.zhao --roles admin --public " + public_["admin.zhao"] +
                   " --actor admin.zhao"),
              0);
    ASSERT_EQ(
        Keys("register --for checker.wang --roles checker --public " + public_["checker.wang"] +
             " --actor admin.zhao --signing-key " + KeyFile("admin.zhao")),
        0);
    ASSERT_EQ(Keys("require-signing --actor admin.zhao --signing-key " + KeyFile("admin.zhao")), 0);
  }
  CommandResult Cli(const std::string& args) {
    return RunCommand(CliPath() + " " + args + " --data " + dir_);
  }
  int Keys(const std::string& args) {
    CommandResult r = Cli("keys " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.out;
    return r.exit_code;
  }
  std::string KeyFile(const std::string& who) { return tmp_.path() + "/" + who + ".key"; }

  TempDir tmp_;
  std::string dir_;
  std::map<std::string, std::string> public_;
};

TEST_F(CliSigned, AKeyFileIsPrivateAndNeverOverwritten) {
  struct stat st {};
  ASSERT_EQ(::stat(KeyFile("admin.zhao").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  CommandResult again =
      RunCommand(CliPath() + " keygen --actor admin.zhao --out " + KeyFile("admin.zhao"));
  EXPECT_NE(again.exit_code, 0) << again.out;
}

TEST_F(CliSigned, SignedPostsAreTakenAndVerify) {
  CommandResult post = Cli(
      R"(post FundOpened --json '{"fund_id":"F1","name":"n","kind":"subsidy","organisation":"o","currency":"CNY"}' --key f1 --actor admin.zhao --role admin --signing-key )" +
      KeyFile("admin.zhao"));
  ASSERT_EQ(post.exit_code, 0) << post.out;
  CommandResult verified = Cli("verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.out;
  EXPECT_NE(verified.out.find("signatures: 3 signed commands verified; every entry from 4 on"),
            std::string::npos)
      << verified.out;
}

// Issue 19: `fundledger post DisbursementBatchApproved --actor checker.wang --role checker` on
// the data directory. The ledger refuses it unsigned; written past the rules with the data
// directory alone, `verify` names its index.
TEST_F(CliSigned, TheForgedCliApprovalIsRefusedAndFailsVerifyAtItsIndex) {
  const std::string approval = R"('{"batch_id":"ROLL-2025-01","document":"ok"}')";
  CommandResult refused = Cli("post DisbursementBatchApproved --json " + approval +
                              " --key forged --actor checker.wang --role checker");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("signature_required"), std::string::npos) << refused.out;

  const uint64_t forged = AppendForgedApproval(dir_);
  ASSERT_GT(forged, 0u);
  CommandResult verified = Cli("verify");
  EXPECT_NE(verified.exit_code, 0);
  EXPECT_NE(verified.out.find("INVALID at entry " + std::to_string(forged) + ": signature:"),
            std::string::npos)
      << verified.out;
  EXPECT_NE(verified.out.find("is not signed"), std::string::npos) << verified.out;
}

// Issue 19's "done when", on the ledger `scripts/run` serves: `fundledger demo` without flags
// requires signing, so the unsigned CLI approval is refused, and the same approval written with
// the data directory alone fails `verify` at its index. With a key file the demo wrote (outside
// the data directory), the CLI signs.
TEST(DemoLedger, RequiresSigningAndAForgedApprovalFailsVerifyAtItsIndex) {
  TempDir tmp;
  const std::string dir = tmp.Sub("city");
  auto cli = [&](const std::string& args) {
    return RunCommand(CliPath() + " " + args + " --data " + dir + " 2>&1");
  };
  CommandResult demo = cli("demo --people 20 --months 1");
  ASSERT_EQ(demo.exit_code, 0) << demo.out;
  EXPECT_NE(demo.out.find("key checker.wang "), std::string::npos) << demo.out;
  struct stat st {};
  ASSERT_EQ(::stat((dir + ".keys/staff/checker.wang.key").c_str(), &st), 0) << demo.out;
  EXPECT_EQ(st.st_mode & 0777, 0600);
  CommandResult verified = cli("verify");
  ASSERT_EQ(verified.exit_code, 0) << verified.out;

  const std::string approval = R"('{"batch_id":"ROLL-2025-01","document":"ok"}')";
  CommandResult refused = cli("post DisbursementBatchApproved --json " + approval +
                              " --key forged --actor checker.wang --role checker");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("signature_required"), std::string::npos) << refused.out;
  const std::string money =
      R"('{"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury",)"
      R"("document":"d"}')";
  CommandResult signed_post = cli("post Appropriated --json " + money +
                                  " --key a1 --actor clerk.li --role maker --signing-key " + dir +
                                  ".keys/staff/clerk.li.key");
  EXPECT_EQ(signed_post.exit_code, 0) << signed_post.out;

  // A roll imported from the CLI is the clerk's command like any other: signed, or refused.
  std::ofstream(tmp.path() + "/roll.csv")
      << "beneficiary_id,program_id,amount\nB000001,dibao,1045\n";
  const std::string import =
      "import " + tmp.path() + "/roll.csv --fund F-SUBSIDY --period 2031-01 --actor clerk.li";
  CommandResult unsigned_roll = cli(import);
  EXPECT_NE(unsigned_roll.exit_code, 0);
  EXPECT_NE(unsigned_roll.out.find("signature_required"), std::string::npos) << unsigned_roll.out;
  CommandResult signed_roll = cli(import + " --signing-key " + dir + ".keys/staff/clerk.li.key");
  EXPECT_EQ(signed_roll.exit_code, 0) << signed_roll.out;
  EXPECT_NE(signed_roll.out.find("prepared batch ROLL-F-SUBSIDY-2031-01: 1 lines"),
            std::string::npos)
      << signed_roll.out;

  const uint64_t forged = AppendForgedApproval(dir);
  ASSERT_GT(forged, 0u);
  verified = cli("verify");
  EXPECT_EQ(verified.exit_code, 1) << verified.out;
  EXPECT_NE(verified.out.find("INVALID at entry " + std::to_string(forged) + ": signature:"),
            std::string::npos)
      << verified.out;
}

}  // namespace
}  // namespace fundledger
