// The log's side of c2sp.org/tlog-witness: requests, the 409 resync, every refusal made a
// clear error, cosignatures checked before they are attached, and two logs with two witnesses
// under a 2-of-2 policy end to end.
#include "witness/witness_client.h"

#include <gtest/gtest.h>

#include "crypto/checkpoint.h"
#include "crypto/key_file.h"
#include "tests/witness/witness_fixture.h"
#include "witness/witness_policy.h"

namespace fundledger {
namespace {

using testing::InProcessTransport;
using testing::TestLog;
using testing::TestWitness;

constexpr std::string_view kPrefix = "https://audit.example/witness";

struct OneWitness {
  TestLog log{"fundledger.example/subsidies", 1};
  TestWitness witness{"audit.example/witness", {log.Watched()}};
  InProcessTransport transport;
  WitnessClient client{WitnessEndpoint{witness->verifier(), std::string(kPrefix) + "/"}, &transport,
                       [this] { return witness.now; }};

  OneWitness() { transport.Serve(std::string(kPrefix), &*witness); }
};

TEST(WitnessClient, GetsACosignatureAndAttachesItAfterTheLogSignature) {
  OneWitness t;
  t.log.Grow(5);
  std::string note = t.log.Checkpoint();
  Result<WitnessCosignature> c = t.client.RequestCosignature(note, 0, t.log.Proofs());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->held_size, 5u);
  EXPECT_EQ(c->timestamp, t.witness.now);
  ASSERT_EQ(t.transport.bodies.size(), 1u);
  EXPECT_TRUE(t.transport.bodies[0].starts_with("old 0\n\n"));
  Result<std::string> cosigned = AddCosignatures(note, std::vector<std::string>{c->line});
  ASSERT_TRUE(cosigned.ok()) << cosigned.status().ToString();
  EXPECT_TRUE(cosigned->starts_with(note));  // the log's note unchanged, its signature first
  EXPECT_TRUE(OpenCheckpoint(*cosigned, VerifierFor(t.log.signer())).ok());
  EXPECT_TRUE(VerifyNote(*ParseNote(*cosigned), t.witness->verifier()).ok());
  // The next checkpoint goes from the size the witness now holds, with a proof.
  t.log.Grow(3);
  ASSERT_TRUE(t.client.RequestCosignature(t.log.Checkpoint(), 5, t.log.Proofs()).ok());
  EXPECT_TRUE(t.transport.bodies[1].starts_with("old 5\n"));
}

TEST(WitnessClient, ResyncsFromTheWitnessSizeAfterA409) {
  OneWitness t;
  t.log.Grow(8);
  ASSERT_EQ(t.witness.Submit(t.log, 0, 5).status, 200);  // cosigned 5 earlier; the log forgot
  std::vector<std::pair<uint64_t, uint64_t>> asked;
  ConsistencyProofSource proofs = [&](uint64_t old_size, uint64_t size) {
    asked.emplace_back(old_size, size);
    return t.log.Proofs()(old_size, size);
  };
  Result<WitnessCosignature> c = t.client.RequestCosignature(t.log.Checkpoint(), 2, proofs);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->held_size, 8u);
  EXPECT_EQ(t.transport.bodies.size(), 2u);  // the 409, then the retry
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1], std::make_pair(uint64_t{5}, uint64_t{8}));
  EXPECT_EQ(t.witness->Held(t.log.signer().name)->size, 8u);
}

TEST(WitnessClient, ReportsAWitnessThatHoldsALargerTree) {
  OneWitness t;
  t.log.Grow(8);
  ASSERT_EQ(t.witness.Submit(t.log, 0, 8).status, 200);
  Result<WitnessCosignature> c =
      t.client.RequestCosignature(t.log.Checkpoint(6), 0, t.log.Proofs());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConflict);
  EXPECT_NE(c.status().message().find("rolled back or forked"), std::string::npos);
  EXPECT_EQ(t.transport.bodies.size(), 1u);
}

TEST(WitnessClient, RetriesA409OnlyOnce) {
  OneWitness t;
  t.log.Grow(8);
  uint64_t reported = 1;
  t.transport.intercept = [&](const std::string&, std::string_view) {
    return std::optional<WitnessAnswer>(SizeConflictAnswer(reported++));
  };
  Result<WitnessCosignature> c = t.client.RequestCosignature(t.log.Checkpoint(), 0, t.log.Proofs());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConflict);
  EXPECT_EQ(t.transport.bodies.size(), 2u);
}

TEST(WitnessClient, TurnsEachRefusalIntoAClearError) {
  OneWitness t;
  t.log.Grow(3);
  struct Case {
    WitnessAnswer answer;
    StatusCode code;
    std::string says;
  };
  std::vector<Case> cases = {
      {{400, "text/plain", "bad old line\n"}, StatusCode::kInvalidArgument, "malformed"},
      {{403, "text/plain", ""}, StatusCode::kPermissionDenied, "current key"},
      {{404, "text/plain", ""}, StatusCode::kNotFound, "does not watch"},
      {{413, "text/plain", ""}, StatusCode::kTooLarge, "too large"},
      {{422, "text/plain", "proof"}, StatusCode::kRuleViolation, "inconsistent"},
      {{503, "text/plain", "busy"}, StatusCode::kOverloaded, "HTTP 503"},
      {{409, "text/plain", "3\n"}, StatusCode::kCorruption, "text/x.tlog.size"},
      {{409, "text/x.tlog.size", "03\n"}, StatusCode::kCorruption, "text/x.tlog.size"},
  };
  for (const Case& k : cases) {
    t.transport.intercept = [&](const std::string&, std::string_view) {
      return std::optional<WitnessAnswer>(k.answer);
    };
    Result<WitnessCosignature> c =
        t.client.RequestCosignature(t.log.Checkpoint(), 0, t.log.Proofs());
    ASSERT_FALSE(c.ok()) << k.answer.status;
    EXPECT_EQ(c.status().code(), k.code) << c.status().ToString();
    EXPECT_NE(c.status().message().find(k.says), std::string::npos) << c.status().ToString();
  }
  t.transport.intercept = nullptr;
  WitnessClient nowhere({t.witness->verifier(), "https://down.example"}, &t.transport);
  EXPECT_EQ(nowhere.RequestCosignature(t.log.Checkpoint(), 0, t.log.Proofs()).status().code(),
            StatusCode::kIoError);
}

TEST(WitnessClient, ChecksTheCosignatureBeforeTrustingIt) {
  OneWitness t;
  t.log.Grow(4);
  std::string text = ParseNote(t.log.Checkpoint())->text;
  NoteSigner stranger =
      *MakeNoteSigner("stranger.example/w", Ed25519PrivateKey::FromSeed(Bytes(32, 5)).value());
  Result<NoteSigner> witness_key = ReadSignerKeyFile(t.witness.dir() + "/witness.key");
  ASSERT_TRUE(witness_key.ok());
  auto line = [&](const NoteSigner& s, std::string_view over, uint64_t ts) {
    return FormatSignatureLine(CosignNote(over, s, ts));
  };
  auto answer_with = [&](std::string body) {
    t.transport.intercept = [body](const std::string&, std::string_view) {
      return std::optional<WitnessAnswer>(WitnessAnswer{200, "text/plain", body});
    };
    return t.client.RequestCosignature(t.log.Checkpoint(), 0, t.log.Proofs());
  };
  uint64_t now = t.witness.now;
  // Lines by unknown keys are ignored; ours is found among them.
  Result<WitnessCosignature> ok =
      answer_with(line(stranger, text, now) + line(*witness_key, text, now - 30));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->timestamp, now - 30);
  EXPECT_FALSE(answer_with(line(stranger, text, now)).ok());  // no line by the witness
  std::string other_text = ParseNote(t.log.Checkpoint(3))->text;
  EXPECT_FALSE(answer_with(line(*witness_key, other_text, now)).ok());  // another checkpoint
  EXPECT_FALSE(answer_with(line(*witness_key, text, now + 601)).ok());  // from the future
  EXPECT_FALSE(answer_with(line(*witness_key, text, now - 601)).ok());  // long stale
  EXPECT_TRUE(answer_with(line(*witness_key, text, now + 600)).ok());
  EXPECT_FALSE(answer_with("").ok());
  EXPECT_FALSE(answer_with("not a signature line\n").ok());
}

TEST(AddCosignatures, KeepsTheLogSignatureFirstAndOneLinePerKey) {
  TestLog log("fundledger.example/subsidies", 1);
  log.Grow(2);
  std::string note = log.Checkpoint();
  std::string text = ParseNote(note)->text;
  NoteSigner w1 = *MakeNoteSigner("w1.example", Ed25519PrivateKey::FromSeed(Bytes(32, 3)).value());
  NoteSigner w2 = *MakeNoteSigner("w2.example", Ed25519PrivateKey::FromSeed(Bytes(32, 4)).value());
  std::string w1_old = FormatSignatureLine(CosignNote(text, w1, 100));
  std::string w1_new = FormatSignatureLine(CosignNote(text, w1, 200));
  std::string w2_line = FormatSignatureLine(CosignNote(text, w2, 150));
  Result<std::string> merged = AddCosignatures(note, std::vector<std::string>{w1_old, w2_line});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(*merged, note + w1_old + w2_line);
  Result<std::string> again = AddCosignatures(*merged, std::vector<std::string>{w1_new, w2_line});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, note + w1_new + w2_line);  // w1's newer line in place of its older one
  EXPECT_EQ(*AddCosignatures(note, {}), note);
  EXPECT_FALSE(
      AddCosignatures(note, std::vector<std::string>{"— w1.example AAAA"}).ok());  // no newline
  EXPECT_FALSE(AddCosignatures(note, std::vector<std::string>{"w1.example AAAAAAAA\n"}).ok());
}

TEST(WitnessEndToEnd, TwoLogsTwoWitnessesAndATwoOfTwoPolicy) {
  TestLog subsidies("bureau.example/subsidies", 1), donations("charity.example/donations", 2);
  TestWitness audit("audit.example/witness", {subsidies.Watched(), donations.Watched()});
  TestWitness federation("federation.example/witness", {subsidies.Watched(), donations.Watched()});
  InProcessTransport transport;
  transport.Serve("https://audit.example", &*audit);
  transport.Serve("https://federation.example", &*federation);
  std::vector<WitnessClient> clients = {
      WitnessClient({audit->verifier(), "https://audit.example"}, &transport,
                    [&] { return audit.now; }),
      WitnessClient({federation->verifier(), "https://federation.example"}, &transport,
                    [&] { return audit.now; })};
  auto policy_for = [&](const TestLog& log) {
    return *WitnessPolicy::Parse(
        "log " + FormatVerifierKey(VerifierFor(log.signer())) + "\nwitness audit " +
        audit->VerifierKey() + " https://audit.example\nwitness federation " +
        federation->VerifierKey() + "\ngroup both all audit federation\nquorum both\n");
  };
  std::map<std::string, std::vector<uint64_t>> believed;  // per log, per witness
  auto publish = [&](TestLog& log) -> std::string {
    std::vector<uint64_t>& held = believed[log.signer().name];
    held.resize(clients.size());
    std::string note = log.Checkpoint();
    for (size_t i = 0; i < clients.size(); ++i) {
      Result<WitnessCosignature> c = clients[i].RequestCosignature(note, held[i], log.Proofs());
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (!c.ok()) return note;
      held[i] = c->held_size;
      note = *AddCosignatures(note, std::vector<std::string>{c->line});
    }
    return note;
  };
  for (int step = 1; step <= 5; ++step) {
    for (TestLog* log : {&subsidies, &donations}) {
      log->Grow(static_cast<uint64_t>(step * 3));
      audit.now += 30;
      federation.now = audit.now;
      std::string published = publish(*log);
      Result<PublishedCheckpoint> p = CheckPolicy(published, policy_for(*log));
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ(p->checkpoint.size, log->size());
      ASSERT_EQ(p->cosigned_by.size(), 2u);
      EXPECT_EQ(p->cosigned_by[0].name, "audit");
      // One witness is not enough under this policy.
      std::string one_cosignature = published.substr(0, published.rfind("\xe2\x80\x94"));
      Result<PublishedCheckpoint> one = CheckPolicy(one_cosignature, policy_for(*log));
      EXPECT_EQ(one.status().rule(), "witness_quorum") << one.status().ToString();
    }
  }
  // A policy for one log does not accept the other log's checkpoint.
  EXPECT_EQ(CheckPolicy(publish(donations), policy_for(subsidies)).status().rule(),
            "log_signature");
}

}  // namespace
}  // namespace fundledger
