// Witness policies (c2sp.org/tlog-policy): the format, its mistakes, and which cosignatures
// count towards a quorum.
#include "witness/witness_policy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/witness/witness_fixture.h"

namespace fundledger {
namespace {

using testing::TestLog;

NoteSigner Cosigner(std::string_view name, uint8_t seed_byte) {
  return *MakeNoteSigner(name, Ed25519PrivateKey::FromSeed(Bytes(32, seed_byte)).value());
}

std::string WitnessKey(const NoteSigner& s) { return FormatVerifierKey(CosignatureVerifierFor(s)); }

std::string LogKey(const TestLog& log) { return FormatVerifierKey(VerifierFor(log.signer())); }

// The spec's example with real keys: 2 of the X witnesses and 1 of the Y witnesses.
TEST(WitnessPolicy, EvaluatesTheSpecsTwoLevelExample) {
  TestLog log("fundledger.example/subsidies", 1);
  std::string text = "log " + LogKey(log) + "\n\n";
  for (int i = 0; i < 6; ++i) {
    std::string name = std::string(i < 3 ? "X" : "Y") + std::to_string(i % 3 + 1);
    text += "witness " + name + " " +
            WitnessKey(Cosigner(name + ".example/w", static_cast<uint8_t>(10 + i))) + "\n";
  }
  text +=
      "group X-witnesses 2 X1 X2 X3\n"
      "\tgroup   Y-witnesses any Y1 Y2 Y3  \n"
      "# both organisations\n"
      "group X-and-Y all X-witnesses Y-witnesses\n"
      "quorum X-and-Y\n";
  Result<WitnessPolicy> policy = WitnessPolicy::Parse(text);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->witnesses().size(), 6u);
  EXPECT_EQ(policy->quorum_name(), "X-and-Y");
  auto holds = [&](std::vector<bool> w) { return policy->QuorumHolds(w); };
  EXPECT_TRUE(holds({true, true, false, false, false, true}));
  EXPECT_TRUE(holds({false, true, true, true, true, true}));
  EXPECT_FALSE(holds({true, false, false, true, true, true}));   // one X
  EXPECT_FALSE(holds({true, true, true, false, false, false}));  // no Y
  EXPECT_FALSE(holds(std::vector<bool>(6, false)));
}

TEST(WitnessPolicy, RefusesMistakesNamingTheLine) {
  TestLog log("fundledger.example/subsidies", 1);
  std::string a = "witness A " + WitnessKey(Cosigner("a.example", 3)) + "\n";
  std::string b = "witness B " + WitnessKey(Cosigner("b.example", 4)) + "\n";
  auto line = [](const std::string& text) { return WitnessPolicy::Parse(text).status().line(); };
  EXPECT_EQ(line(a + "frobnicate A\nquorum A\n"), 2u);
  EXPECT_EQ(line(a + "group G 1 A C\nquorum G\n"), 2u);                   // C undefined
  EXPECT_EQ(line(a + b + "group G 1 A B\ngroup H 1 A\nquorum G\n"), 4u);  // A in two groups
  EXPECT_EQ(line(a + b + "group G 0 A B\nquorum G\n"), 3u);
  EXPECT_EQ(line(a + b + "group G 3 A B\nquorum G\n"), 3u);
  EXPECT_EQ(line(a + b + "group G 01 A B\nquorum G\n"), 3u);
  EXPECT_EQ(line(a + "group G any none\nquorum G\n"), 2u);
  EXPECT_EQ(line(a + "witness A " + WitnessKey(Cosigner("c.example", 5)) + "\nquorum A\n"), 2u);
  EXPECT_EQ(line("witness none " + WitnessKey(Cosigner("c.example", 5)) + "\nquorum none\n"), 1u);
  // The same key under another name and key name is still the same witness.
  EXPECT_EQ(
      line(a + "witness A2 " + WitnessKey(Cosigner("other-name.example", 3)) + "\nquorum A\n"), 2u);
  EXPECT_EQ(line("log " + LogKey(log) + "\nlog " + LogKey(log) + "\nquorum none\n"), 2u);
  EXPECT_EQ(line("log " + WitnessKey(Cosigner("c.example", 5)) + "\nquorum none\n"), 1u);
  EXPECT_EQ(line("witness A " + LogKey(log) + "\nquorum A\n"), 1u);
  EXPECT_EQ(line(a + "quorum A\nquorum A\n"), 3u);
  EXPECT_EQ(line(a + "quorum B\n"), 2u);
  EXPECT_EQ(line(a + "quorum A\x01\n"), 2u);
  Result<WitnessPolicy> no_quorum = WitnessPolicy::Parse(a);
  ASSERT_FALSE(no_quorum.ok());
  EXPECT_NE(no_quorum.status().message().find("no quorum"), std::string::npos);
  EXPECT_TRUE(WitnessPolicy::Parse(a + "quorum none\n").ok());
  testing::TempDir tmp;
  std::ofstream(tmp.Sub("policy")) << a << "quorum B\n";
  Status in_file = WitnessPolicy::ReadFile(tmp.Sub("policy")).status();
  EXPECT_EQ(in_file.line(), 2u);
  EXPECT_TRUE(in_file.message().starts_with(tmp.Sub("policy") + ": ")) << in_file.message();
}

class CheckPolicyTest : public ::testing::Test {
 protected:
  CheckPolicyTest() {
    log_.Grow(12);
    policy_text_ = "log " + LogKey(log_) + "\n";
    for (int i = 0; i < 3; ++i)
      policy_text_ += "witness W" + std::to_string(i) + " " + WitnessKey(w_[i]) + "\n";
    policy_text_ += "group two 2 W0 W1 W2\nquorum two\n";
    policy_ = *WitnessPolicy::Parse(policy_text_);
    note_ = log_.Checkpoint();
    text_ = ParseNote(note_)->text;
  }
  std::string Cosign(const NoteSigner& s, uint64_t ts, std::string_view over = {}) {
    return FormatSignatureLine(CosignNote(over.empty() ? text_ : over, s, ts));
  }

  TestLog log_{"fundledger.example/subsidies", 1};
  NoteSigner w_[3] = {Cosigner("w0.example", 20), Cosigner("w1.example", 21),
                      Cosigner("w2.example", 22)};
  NoteSigner stranger_ = Cosigner("stranger.example", 23);
  std::string policy_text_, note_, text_;
  WitnessPolicy policy_ = *WitnessPolicy::Parse("quorum none\n");
};

TEST_F(CheckPolicyTest, CountsOnlyDistinctValidConfiguredWitnesses) {
  std::string other_text = ParseNote(log_.Checkpoint(11))->text;
  std::string lines = Cosign(w_[0], 100) + Cosign(w_[0], 200) +  // one witness, twice
                      Cosign(stranger_, 100) +                   // not in the policy
                      Cosign(w_[1], 100, other_text);            // over another checkpoint
  Result<PublishedCheckpoint> short_of = CheckPolicy(note_ + lines, policy_);
  ASSERT_FALSE(short_of.ok());
  EXPECT_EQ(short_of.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(short_of.status().rule(), "witness_quorum");
  EXPECT_NE(short_of.status().message().find("by 1 of the policy's witnesses (W0)"),
            std::string::npos)
      << short_of.status().message();

  Result<PublishedCheckpoint> met = CheckPolicy(note_ + lines + Cosign(w_[2], 300), policy_);
  ASSERT_TRUE(met.ok()) << met.status().ToString();
  EXPECT_EQ(met->checkpoint.size, 12u);
  ASSERT_EQ(met->cosigned_by.size(), 2u);
  EXPECT_EQ(met->cosigned_by[0].name, "W0");
  EXPECT_EQ(met->cosigned_by[0].timestamp, 100u);
  EXPECT_EQ(met->cosigned_by[1].name, "W2");
}

TEST_F(CheckPolicyTest, NeedsTheLogsOwnSignature) {
  std::string cosigs = Cosign(w_[0], 1) + Cosign(w_[1], 1) + Cosign(w_[2], 1);
  TestLog impostor("fundledger.example/subsidies", 7);
  impostor.Grow(12);
  Result<PublishedCheckpoint> r = CheckPolicy(impostor.Checkpoint() + cosigs, policy_);
  EXPECT_EQ(r.status().rule(), "log_signature") << r.status().ToString();
  EXPECT_TRUE(CheckPolicy(note_ + cosigs, policy_).ok());
  Result<WitnessPolicy> none = WitnessPolicy::Parse("log " + LogKey(log_) + "\nquorum none\n");
  EXPECT_TRUE(CheckPolicy(note_, *none).ok());
  EXPECT_EQ(CheckPolicy("not a note", policy_).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fundledger
