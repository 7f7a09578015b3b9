// Third-party vectors through the witness and its client: FiloSottile/torchwood's litewitness
// request/response sequence (its signed checkpoints and proofs are rows of signed_notes.jsonl
// and consistency.jsonl), Go's checksum database checkpoint, and the cosignature rows.
#include <gtest/gtest.h>

#include <map>

#include "crypto/checkpoint.h"
#include "tests/tlog_vector_rows.h"
#include "tests/witness/witness_fixture.h"
#include "witness/witness_policy.h"

namespace fundledger {
namespace {

namespace json = boost::json;
using testing::HexBytes;
using testing::InProcessTransport;
using testing::ReadRows;
using testing::Str;
using testing::TestWitness;
using testing::U64;

constexpr std::string_view kLitewitness = "cmd/litewitness/testdata/litewitness.txt";

bool FromTorchwood(const json::object& row, std::string_view path) {
  const json::object& src = row.at("src").as_object();
  return src.at("repo").as_string() == "FiloSottile/torchwood" &&
         src.at("path").as_string() == path;
}

std::vector<Hash> Proof(const json::object& row) {
  std::vector<Hash> proof;
  for (const json::value& h : row.at("proof").as_array()) {
    proof.push_back(*HashFromHex(std::string(h.as_string())));
  }
  return proof;
}

// litewitness.txt's log, checkpoints and proofs, gathered from the vector rows.
struct LitewitnessLog {
  NoteVerifier key;
  std::map<uint64_t, std::string> notes;  // by size, validly signed
  std::string note3_bad_signature;
  std::map<std::string, std::vector<Hash>> proofs;  // "1-3 empty", "1-3 bad", "1-3", "1-5", "3-5"

  LitewitnessLog() {
    for (const json::object& row : ReadRows("signed_notes.jsonl")) {
      if (!FromTorchwood(row, kLitewitness)) continue;
      std::string note = Str(row, "text") + "\n" + Str(row, "signature_line") + "\n";
      Checkpoint cp = *ParseCheckpoint(Str(row, "text"));
      Ed25519PublicKey pub = *Ed25519PublicKeyFromBytes(HexBytes(Str(row, "verifier_pubkey_hex")));
      key =
          NoteVerifier{cp.origin, NoteKeyId(cp.origin, kNoteAlgEd25519, pub), kNoteAlgEd25519, pub};
      if (row.at("valid").as_bool()) {
        notes[cp.size] = note;
      } else {
        note3_bad_signature = note;
      }
    }
    for (const json::object& row : ReadRows("consistency.jsonl")) {
      if (!FromTorchwood(row, kLitewitness)) continue;
      std::string name =
          std::to_string(U64(row, "size1")) + "-" + std::to_string(U64(row, "size2"));
      std::vector<Hash> proof = Proof(row);
      if (!row.at("valid").as_bool()) name += proof.empty() ? " empty" : " bad";
      proofs[name] = proof;
    }
  }
};

std::string Body(uint64_t old_size, const std::vector<Hash>& proof, const std::string& note) {
  return FormatAddCheckpointRequest({old_size, proof, note});
}

// The sequence of cmd/litewitness/testdata/litewitness.txt, with the statuses the spec
// defines. One differs from litewitness at that commit: an unknown origin is 404 in the spec
// (litewitness answered 403).
TEST(WitnessVectors, LitewitnessAddCheckpointSequence) {
  LitewitnessLog v;
  ASSERT_EQ(v.notes.size(), 3u);
  ASSERT_FALSE(v.note3_bad_signature.empty());
  ASSERT_EQ(v.proofs.size(), 5u);
  TestWitness w("example.com/witness", {WatchedLog{v.key.name, {v.key}}});
  auto add = [&](uint64_t old_size, const std::string& proof, const std::string& note) {
    return w->AddCheckpoint(
        Body(old_size, proof.empty() ? std::vector<Hash>{} : v.proofs.at(proof), note));
  };
  WitnessAnswer first = add(0, "", v.notes[1]);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(first.body.starts_with("\xe2\x80\x94 example.com/witness "));
  EXPECT_EQ(add(1, "1-3", v.note3_bad_signature).status, 403);
  std::string foreign = v.notes[3];  // the origin (and the key name) changed: unknown log
  for (size_t at = foreign.find("e562"); at != std::string::npos; at = foreign.find("e562", at))
    foreign.replace(at, 4, "e563");
  EXPECT_EQ(add(1, "1-3", foreign).status, 404);
  EXPECT_EQ(add(1, "", v.notes[3]).status, 422);  // no proof
  EXPECT_EQ(w->AddCheckpoint(Body(1, v.proofs.at("1-3 bad"), v.notes[3])).status, 422);
  WitnessAnswer to3 = add(1, "1-3", v.notes[3]);
  ASSERT_EQ(to3.status, 200) << to3.body;
  EXPECT_TRUE(testing::CosignatureVerifies(ParseNote(v.notes[3])->text, to3.body, w->verifier()));
  WitnessAnswer stale = add(1, "1-5", v.notes[5]);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body, "3\n");
  EXPECT_EQ(add(3, "3-5", v.notes[5]).status, 200);
  WitnessAnswer again = add(0, "", v.notes[5]);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body, "5\n");
  EXPECT_EQ(w->Held(v.key.name)->size, 5u);
}

// cmd/litewitness/testdata/sumdb.txt: a real sum.golang.org checkpoint, whose key name is not
// its origin; the witness is configured per origin.
TEST(WitnessVectors, SumdbCheckpointUnderAKeyNamedOtherThanItsOrigin) {
  for (const json::object& row : ReadRows("signed_notes.jsonl")) {
    if (!FromTorchwood(row, "cmd/litewitness/testdata/sumdb.txt")) continue;
    NoteVerifier key = *ParseVerifierKey(Str(row, "verifier_key"));
    std::string note = Str(row, "text") + "\n" + Str(row, "signature_line") + "\n";
    TestWitness w("example.com/witness", {WatchedLog{"go.sum database tree", {key}}});
    WitnessAnswer a = w->AddCheckpoint(Body(0, {}, note));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(w->Held("go.sum database tree")->size, 35225469u);
    return;
  }
  FAIL() << "no sumdb.txt row in signed_notes.jsonl";
}

// Every Ed25519 cosignature row, as a log's client and as a policy read it: valid rows are
// accepted and the others refused.
TEST(WitnessVectors, CosignatureRowsThroughTheClientAndThePolicy) {
  int checked = 0;
  for (const json::object& row : ReadRows("cosignatures.jsonl")) {
    if (Str(row, "kind") != "ed25519_cosignature_v1") continue;
    bool valid = row.at("valid").as_bool();
    std::string text = Str(row, "text");
    std::string line = Str(row, "signature_line") + "\n";
    NoteSigner cosigner =
        *MakeNoteSigner(Str(row, "cosigner_name"),
                        *Ed25519PrivateKey::FromSeed(HexBytes(Str(row, "cosigner_seed_hex"))));
    NoteVerifier witness = CosignatureVerifierFor(cosigner);
    NoteSigner log = *MakeNoteSigner(ParseCheckpoint(text)->origin, Ed25519PrivateKey::Generate());
    std::string note = SignNote(text, log);

    InProcessTransport transport;
    transport.intercept = [&](const std::string&, std::string_view) {
      return std::optional<WitnessAnswer>(WitnessAnswer{200, "text/plain", line});
    };
    WitnessClient client({witness, "https://w.example"}, &transport,
                         [&] { return U64(row, "expected_timestamp"); });
    auto no_proof = [](uint64_t, uint64_t) {
      return Result<std::vector<Hash>>(std::vector<Hash>{});
    };
    EXPECT_EQ(client.RequestCosignature(note, 0, no_proof).ok(), valid) << Str(row, "desc");

    WitnessPolicy policy =
        *WitnessPolicy::Parse("log " + FormatVerifierKey(VerifierFor(log)) + "\nwitness W " +
                              FormatVerifierKey(witness) + "\nquorum W\n");
    EXPECT_EQ(CheckPolicy(note + line, policy).ok(), valid) << Str(row, "desc");
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace fundledger
