// The witness (server side of c2sp.org/tlog-witness): every answer the spec defines, what it
// refuses to cosign, its state across restarts, and one request per log at a time.
#include "witness/witness.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <thread>

#include "crypto/checkpoint.h"
#include "tests/witness/witness_fixture.h"

namespace fundledger {
namespace {

using testing::AddCheckpointBody;
using testing::CosignatureVerifies;
using testing::TestLog;
using testing::TestWitness;

std::string TextOf(const std::string& note) { return ParseNote(note)->text; }

uint64_t HeldSize(TestWitness& w, const TestLog& log) { return w->Held(log.signer().name)->size; }

// The spec's example request body, verbatim (c2sp.org/tlog-witness, add-checkpoint).
constexpr std::string_view kSpecExampleRequest =
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q="
    "\n";

TEST(WitnessProtocol, ParsesAndFormatsTheSpecExampleRequest) {
  Result<AddCheckpointRequest> r = ParseAddCheckpointRequest(kSpecExampleRequest);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->old_size, 20852014u);
  ASSERT_EQ(r->proof.size(), 4u);
  EXPECT_EQ(Base64Encode(r->proof[3]), "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=");
  Result<Note> note = ParseNote(r->checkpoint);
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(ParseCheckpoint(note->text)->size, 20852163u);
  EXPECT_EQ(FormatAddCheckpointRequest(*r), kSpecExampleRequest);
}

TEST(WitnessProtocol, ReadsTheSpecExampleCosignature) {
  // c2sp.org/tlog-cosignature: the example's witness line and its signed message.
  std::string text =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  Result<Note> note = ParseNote(
      text +
      "\n\xe2\x80\x94 witness.example.com/w1 "
      "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
      "xUe+mbIUBkBIfZ+qnA==\n");
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(*CosignatureTimestamp(note->signatures[0]), 1679315147u);
  EXPECT_EQ(CosignatureMessage(text, 1679315147), "cosignature/v1\ntime 1679315147\n" + text);
}

TEST(WitnessProtocol, RejectsMalformedRequestsNamingTheLine) {
  std::string note = TestLog("log.example", 1).Checkpoint(0);
  auto status = [](std::string_view body) { return ParseAddCheckpointRequest(body).status(); };
  EXPECT_EQ(status("old 0\n" + note).code(), StatusCode::kInvalidArgument);  // no empty line
  EXPECT_EQ(status("old 01\n\n" + note).line(), 1u);
  EXPECT_EQ(status("old -1\n\n" + note).line(), 1u);
  EXPECT_EQ(status("Old 1\n\n" + note).line(), 1u);
  EXPECT_EQ(status("old 1\n\n").code(), StatusCode::kInvalidArgument);  // no checkpoint
  EXPECT_EQ(status("old 1\nAAAA\n\n" + note).line(), 2u);               // not 32 bytes
  std::string proof_line = Base64Encode(Hash{}) + "\n";
  std::string lines63, lines64;
  for (int i = 0; i < 63; ++i) lines63 += proof_line;
  lines64 = lines63 + proof_line;
  EXPECT_TRUE(ParseAddCheckpointRequest("old 1\n" + lines63 + "\n" + note).ok());
  EXPECT_EQ(status("old 1\n" + lines64 + "\n" + note).line(), 65u);
  std::string huge = "old 1\n\n" + note + std::string(kAddCheckpointBodyBytesMax, 'x');
  EXPECT_EQ(status(huge).code(), StatusCode::kTooLarge);
}

TEST(Witness, CosignsEachConsistentCheckpointOfAGrowingLog) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  uint64_t held = 0;
  for (uint64_t step : {1, 1, 3, 8, 21, 55, 200, 711}) {
    log.Grow(step);
    w.now += 7;
    WitnessAnswer a = w.Submit(log, held, log.size());
    ASSERT_EQ(a.status, 200) << "at size " << log.size() << ": " << a.body;
    EXPECT_EQ(a.content_type, kTextContentType);
    EXPECT_TRUE(CosignatureVerifies(TextOf(log.Checkpoint()), a.body, w->verifier())) << a.body;
    Result<Note> lines = ParseNote(TextOf(log.Checkpoint()) + "\n" + a.body);
    EXPECT_EQ(*CosignatureTimestamp(lines->signatures[0]), w.now);
    held = log.size();
    EXPECT_EQ(HeldSize(w, log), held);
    EXPECT_EQ(w->Held(log.signer().name)->root, log.RootAt(held));
  }
  // The same checkpoint again: cosigned again, with the new time.
  w.now += 60;
  WitnessAnswer again = w.Submit(log, held, held);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(CosignatureVerifies(TextOf(log.Checkpoint()), again.body, w->verifier()));
}

TEST(Witness, AnswersAStaleOldSizeWith409AndTheSizeItHolds) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  log.Grow(9);
  ASSERT_EQ(w.Submit(log, 0, 5).status, 200);
  for (uint64_t stale : {0, 3, 4, 6}) {
    WitnessAnswer a = w.Submit(log, stale, 9);
    EXPECT_EQ(a.status, 409) << "old " << stale;
    EXPECT_EQ(a.content_type, "text/x.tlog.size");
    EXPECT_EQ(a.body, "5\n");
  }
  EXPECT_EQ(HeldSize(w, log), 5u);
}

TEST(Witness, RefusesARollback) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  log.Grow(10);
  ASSERT_EQ(w.Submit(log, 0, 10).status, 200);
  // The log claims the witness holds 10 and shows it size 5: old above the size is malformed.
  WitnessAnswer down = w->AddCheckpoint(AddCheckpointBody(10, {}, log.Checkpoint(5)));
  EXPECT_EQ(down.status, 400) << down.body;
  // From 5 (not what it holds): 409 with the size it holds.
  WitnessAnswer from5 = w->AddCheckpoint(AddCheckpointBody(5, {}, log.Checkpoint(5)));
  EXPECT_EQ(from5.status, 409);
  EXPECT_EQ(from5.body, "10\n");
  EXPECT_EQ(HeldSize(w, log), 10u);
}

TEST(Witness, RefusesAForkOfTheSizeItCosigned) {
  TestLog log("fundledger.example/subsidies", 1);
  log.Grow(6);
  TestLog fork = log;  // same key, same first 6 leaves
  log.Grow(4, "paid");
  fork.Grow(4, "paid twice");
  TestWitness w("audit.example/witness", {log.Watched()});
  ASSERT_EQ(w.Submit(log, 0, 10).status, 200);
  WitnessAnswer a = w.Submit(fork, 10, 10);
  EXPECT_EQ(a.status, 422) << a.body;
  EXPECT_NE(a.body.find("fork"), std::string::npos) << a.body;
  EXPECT_EQ(w->Held(log.signer().name)->root, log.RootAt(10));
  // The signed fork is kept as evidence of the log's misbehaviour.
  std::ifstream evidence(w.dir() + "/evidence/" + OriginHashHex(log.signer().name));
  std::string kept((std::istreambuf_iterator<char>(evidence)), {});
  EXPECT_NE(kept.find(fork.Checkpoint(10)), std::string::npos);
}

TEST(Witness, RefusesALaterCheckpointNotConsistentWithTheOneItCosigned) {
  TestLog log("fundledger.example/subsidies", 1);
  log.Grow(6);
  TestLog fork = log;
  log.Grow(4, "paid");
  fork.Grow(20, "paid twice");
  TestWitness w("audit.example/witness", {log.Watched()});
  ASSERT_EQ(w.Submit(log, 0, 10).status, 200);
  // The fork's own proof from its size 10, and the honest log's proof: neither links them.
  EXPECT_EQ(w.Submit(fork, 10, 26).status, 422);
  log.Grow(16);
  std::vector<Hash> honest_proof = log.Proof(10, 26);
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(10, honest_proof, fork.Checkpoint(26))).status, 422);
  // So a reader who needs this witness never sees the fork cosigned; the honest log goes on.
  EXPECT_EQ(w.Submit(log, 10, 26).status, 200);
  EXPECT_EQ(w.Submit(fork, 26, 26).status, 422);
}

TEST(Witness, RefusesAnUnknownLogWith404) {
  TestLog log("fundledger.example/subsidies", 1);
  TestLog foreign("other.example/log", 2);
  foreign.Grow(3);
  TestWitness w("audit.example/witness", {log.Watched()});
  WitnessAnswer a = w.Submit(foreign, 0, 3);
  EXPECT_EQ(a.status, 404) << a.body;
  EXPECT_NE(a.body.find("other.example/log"), std::string::npos);
}

TEST(Witness, RefusesACheckpointWithoutAValidLogSignatureWith403) {
  TestLog log("fundledger.example/subsidies", 1);
  log.Grow(3);
  TestLog impostor("fundledger.example/subsidies", 9);  // same origin, another key
  impostor.Grow(3);
  TestWitness w("audit.example/witness", {log.Watched()});
  EXPECT_EQ(w.Submit(impostor, 0, 3).status, 403);  // only an unknown key signed it
  std::string tampered = log.Checkpoint();
  size_t sig = tampered.rfind(' ') + 20;             // inside the signature bytes, past the key id
  tampered[sig] = tampered[sig] == 'A' ? 'B' : 'A';  // the trusted key's signature fails
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(0, {}, tampered)).status, 403);
  // An unknown key's signature beside the valid one is ignored.
  std::string both =
      log.Checkpoint() +
      std::string(impostor.Checkpoint()).substr(TextOf(impostor.Checkpoint()).size() + 1);
  WitnessAnswer ok = w->AddCheckpoint(AddCheckpointBody(0, {}, both));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(HeldSize(w, log), 3u);
}

TEST(Witness, AppliesTheSpecsEdgeCases) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  // Size 0 needs the empty tree's root; with it, it is cosigned.
  NoteSigner s = log.signer();
  std::string bad_empty = SignNote(FormatCheckpoint({s.name, 0, Hash{}, {}}), s);
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(0, {}, bad_empty)).status, 422);
  EXPECT_EQ(w.Submit(log, 0, 0).status, 200);
  log.Grow(4);
  // From 0 the proof must be empty.
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(0, {Hash{}}, log.Checkpoint())).status, 422);
  ASSERT_EQ(w.Submit(log, 0, 4).status, 200);
  // An equal size needs an empty proof and the same root.
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(4, {Hash{}}, log.Checkpoint())).status, 422);
  log.Grow(3);
  std::vector<Hash> proof = log.Proof(4, 7);
  proof[0][0] ^= 1;
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(4, proof, log.Checkpoint())).status, 422);
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(4, {}, log.Checkpoint())).status, 422);
  EXPECT_EQ(w.Submit(log, 4, 7).status, 200);
  // A malformed checkpoint body under a valid signature is a bad request.
  std::string not_a_checkpoint = SignNote(s.name + "\nseven\n", s);
  EXPECT_EQ(w->AddCheckpoint(AddCheckpointBody(7, {}, not_a_checkpoint)).status, 400);
}

TEST(Witness, StateSurvivesARestart) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  log.Grow(7);
  w.now = 2'000'000'000;
  ASSERT_EQ(w.Submit(log, 0, 7).status, 200);
  std::string key = w->VerifierKey();
  w.Reopen();
  EXPECT_EQ(w->VerifierKey(), key);
  EXPECT_EQ(HeldSize(w, log), 7u);
  EXPECT_EQ(w.Submit(log, 0, 7).body, "7\n");  // a log that forgot learns 7 from the 409
  log.Grow(2);
  w.now -= 3600;  // the clock went back an hour across the restart
  WitnessAnswer a = w.Submit(log, 7, 9);
  ASSERT_EQ(a.status, 200) << a.body;
  Result<Note> lines = ParseNote(TextOf(log.Checkpoint()) + "\n" + a.body);
  EXPECT_EQ(*CosignatureTimestamp(lines->signatures[0]), 2'000'000'000u);  // never backwards
}

TEST(Witness, KeepsItsKeyPrivateAndItsDirectoryToOneProcess) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  struct stat st;
  ASSERT_EQ(::stat((w.dir() + "/witness.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::unique_ptr<Witness>> second = Witness::Open(w.Options());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another process"), std::string::npos);
  EXPECT_FALSE(Witness::Create(w.dir(), "audit.example/witness").ok());  // never over a witness
}

TEST(Witness, RefusesToStartOnLostOrDamagedState) {
  TestLog log("fundledger.example/subsidies", 1);
  log.Grow(5);
  TestWitness w("audit.example/witness", {log.Watched()});
  ASSERT_EQ(w.Submit(log, 0, 5).status, 200);
  w.Close();
  std::string stored = w.dir() + "/logs/" + OriginHashHex(log.signer().name);
  std::string text;
  {
    std::ifstream in(stored);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string damaged = text;
  damaged.replace(damaged.find("\n5\n"), 3, "\n4\n");  // a smaller size, as a rollback would
  std::ofstream(stored, std::ios::trunc) << damaged;
  Result<std::unique_ptr<Witness>> opened = Witness::Open(w.Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("no valid cosignature"), std::string::npos);

  std::ofstream(stored, std::ios::trunc) << text;
  std::filesystem::remove_all(w.dir() + "/logs");
  opened = Witness::Open(w.Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("retired"), std::string::npos);
}

TEST(Witness, ServesTheLatestCosignedCheckpointToMonitors) {
  TestLog log("fundledger.example/subsidies", 1);
  TestWitness w("audit.example/witness", {log.Watched()});
  std::string hash = OriginHashHex(log.signer().name);
  EXPECT_EQ(w->LatestCheckpoint(hash).status, 404);  // nothing cosigned yet
  EXPECT_EQ(w->LatestCheckpoint(OriginHashHex("other")).status, 404);
  log.Grow(12);
  ASSERT_EQ(w.Submit(log, 0, 12).status, 200);
  WitnessAnswer a = w->LatestCheckpoint(hash);
  ASSERT_EQ(a.status, 200);
  Result<Note> note = ParseNote(a.body);
  ASSERT_TRUE(note.ok());
  ASSERT_EQ(note->signatures.size(), 2u);
  EXPECT_EQ(note->signatures[0].name, log.signer().name);  // the log's signature first
  EXPECT_TRUE(OpenCheckpoint(a.body, VerifierFor(log.signer())).ok());
  EXPECT_TRUE(VerifyNote(*note, w->verifier()).ok());
}

TEST(Witness, SerialisesRequestsForOneLogSoNothingRollsBack) {
  // The spec's race: requests from the same old size for different sizes. Exactly one wins;
  // every other gets 409 with the winner's size, and nothing smaller is stored after it.
  TestLog log("fundledger.example/subsidies", 1);
  TestLog other("fundledger.example/donations", 2);
  log.Grow(40);
  other.Grow(40);
  TestWitness w("audit.example/witness", {log.Watched(), other.Watched()});
  ASSERT_EQ(w.Submit(log, 0, 10).status, 200);
  ASSERT_EQ(w.Submit(other, 0, 10).status, 200);
  constexpr int kThreads = 8;
  std::vector<std::string> bodies;
  for (int i = 0; i < kThreads; ++i) {
    bodies.push_back(AddCheckpointBody(10, log.Proof(10, 11 + i), log.Checkpoint(11 + i)));
  }
  std::vector<WitnessAnswer> answers(kThreads);
  WitnessAnswer other_answer;
  std::latch start(kThreads + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[i] = w->AddCheckpoint(bodies[i]);
    });
  }
  threads.emplace_back([&] {
    start.arrive_and_wait();
    other_answer = w.Submit(other, 10, 40);
  });
  for (std::thread& t : threads) t.join();
  int winners = 0;
  uint64_t won = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (answers[i].status == 200) {
      ++winners;
      won = 11 + i;
    }
  }
  ASSERT_EQ(winners, 1);
  for (const WitnessAnswer& a : answers) {
    if (a.status != 200) {
      EXPECT_EQ(a.body, std::to_string(won) + "\n");
    }
  }
  EXPECT_EQ(HeldSize(w, log), won);
  EXPECT_EQ(other_answer.status, 200);  // another log is not held up
  EXPECT_EQ(HeldSize(w, other), 40u);
}

TEST(WitnessConfig, ParsesOriginsAndTheirKeys) {
  TestLog a("fundledger.example/subsidies", 1);
  NoteSigner sumdb = *MakeNoteSigner("sum.golang.org", Ed25519PrivateKey::Generate());
  std::string text = "# logs\norigin fundledger.example/subsidies\nkey " +
                     FormatVerifierKey(VerifierFor(a.signer())) +
                     "\n\n  # Go's checksum database\norigin go.sum database tree\nkey " +
                     FormatVerifierKey(VerifierFor(sumdb)) + "\nkey " +
                     FormatVerifierKey(VerifierFor(a.signer())) + "\n";
  Result<WitnessConfig> config = ParseWitnessConfig(text);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->logs.size(), 2u);
  EXPECT_EQ(config->logs[1].origin, "go.sum database tree");
  EXPECT_EQ(config->logs[1].keys.size(), 2u);
  EXPECT_EQ(config->logs[1].keys[0].name, "sum.golang.org");
}

TEST(WitnessConfig, ReadsAFileAndNamesItInErrors) {
  testing::TempDir tmp;
  TestLog a("fundledger.example/subsidies", 1);
  std::string path = tmp.Sub("logs.conf");
  std::ofstream(path) << "origin a\nkey " << FormatVerifierKey(VerifierFor(a.signer())) << "\n";
  Result<WitnessConfig> config = ReadWitnessConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->logs[0].origin, "a");
  std::ofstream(path, std::ios::app) << "kee x\n";
  Status bad = ReadWitnessConfigFile(path).status();
  EXPECT_EQ(bad.line(), 3u);
  EXPECT_TRUE(bad.message().starts_with(path + ": ")) << bad.message();
  EXPECT_EQ(ReadWitnessConfigFile(tmp.Sub("missing")).status().code(), StatusCode::kNotFound);
}

TEST(WitnessConfig, RejectsMistakesNamingTheLine) {
  TestLog a("fundledger.example/subsidies", 1);
  std::string key = "key " + FormatVerifierKey(VerifierFor(a.signer())) + "\n";
  std::string cosig_key = "key " + FormatVerifierKey(CosignatureVerifierFor(a.signer())) + "\n";
  auto line = [](const std::string& text) { return ParseWitnessConfig(text).status().line(); };
  EXPECT_EQ(line(key), 1u);                                        // key before any origin
  EXPECT_EQ(line("origin a\n" + key + "origin a\n" + key), 3u);    // origin twice
  EXPECT_EQ(line("origin a \n" + key), 1u);                        // trailing space
  EXPECT_EQ(line("origin a\nkey a+00000000+AAAA\n"), 2u);          // not a vkey
  EXPECT_EQ(line("origin a\n" + cosig_key), 2u);                   // a witness key type
  EXPECT_EQ(line("origin a\n" + key + "trust everything\n"), 3u);  // unknown keyword
  EXPECT_FALSE(ParseWitnessConfig("origin a\n").ok());             // origin without a key
  EXPECT_TRUE(ParseWitnessConfig("origin a\n" + key).ok());
}

}  // namespace
}  // namespace fundledger
