// Every row of the third-party vectors in ../shared/testdata/tlog must pass: positives
// accepted, negatives rejected. A missing vector file fails the test; it never skips.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "crypto/note.h"
#include "tests/tlog_vector_rows.h"

namespace fundledger {
namespace {

namespace json = boost::json;
using testing::Has;
using testing::HexBytes;
using testing::ReadRows;
using testing::Str;
using testing::U64;

// A hash field, or nullopt when it is not 32 bytes (which only a negative row may have).
std::optional<Hash> MaybeHash(const std::string& hex) {
  Result<Hash> h = HashFromHex(hex);
  if (!h.ok()) return std::nullopt;
  return *h;
}

std::string Desc(const json::object& row) { return Str(row, "desc"); }

TEST(TlogVectors, Hashes) {
  int checked = 0;
  for (const json::object& row : ReadRows("hashes.jsonl")) {
    std::string kind = Str(row, "kind");
    if (kind == "sigsum_origin") {
      std::string origin =
          "sigsum.org/v1/tree/" + HashHex(Sha256::Digest(HexBytes(Str(row, "pubkey"))));
      EXPECT_EQ(origin, Str(row, "origin"));
      continue;
    }
    Hash expected = *HashFromHex(Str(row, "hash"));
    if (kind == "empty") {
      EXPECT_EQ(EmptyTreeRoot(), expected);
    } else if (kind == "leaf") {
      EXPECT_EQ(HashLeaf(HexBytes(Str(row, "data"))), expected) << Desc(row);
    } else if (kind == "node") {
      // RFC 6962 node hash over arbitrary bytes: SHA-256(0x01 || left || right).
      Bytes msg{0x01};
      Bytes l = HexBytes(Str(row, "left")), r = HexBytes(Str(row, "right"));
      msg.insert(msg.end(), l.begin(), l.end());
      msg.insert(msg.end(), r.begin(), r.end());
      EXPECT_EQ(Sha256::Digest(msg), expected) << Desc(row);
      if (l.size() == 32 && r.size() == 32) {
        EXPECT_EQ(HashChildren(*HashFromBytes(l), *HashFromBytes(r)), expected);
      }
    } else {
      ADD_FAILURE() << "unknown kind " << kind;
    }
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(TlogVectors, Roots) {
  for (const json::object& row : ReadRows("roots.jsonl")) {
    MemoryTree tree;
    if (Has(row, "leaves")) {
      for (const json::value& leaf : row.at("leaves").as_array()) {
        tree.Append(HashLeaf(HexBytes(std::string(leaf.as_string()))));
      }
    } else {
      for (const json::value& h : row.at("leaf_hashes").as_array()) {
        tree.Append(*HashFromHex(std::string(h.as_string())));
      }
    }
    ASSERT_EQ(tree.size(), U64(row, "size")) << Desc(row);
    Hash expected = *HashFromHex(Str(row, "root"));
    EXPECT_EQ(tree.Root(), expected) << Desc(row);
    Result<Hash> stored_root = TreeRoot(tree, tree.size());
    ASSERT_TRUE(stored_root.ok());
    EXPECT_EQ(*stored_root, expected) << Desc(row);
  }
}

TEST(TlogVectors, Inclusion) {
  int positives = 0, negatives = 0;
  for (const json::object& row : ReadRows("inclusion.jsonl")) {
    bool valid = row.at("valid").as_bool();
    std::optional<Hash> leaf_hash;
    if (Has(row, "leaf_hash")) {
      leaf_hash = MaybeHash(Str(row, "leaf_hash"));
    } else {
      leaf_hash = HashLeaf(HexBytes(Str(row, "leaf")));
    }
    if (Has(row, "leaf_hash") && Has(row, "leaf")) {
      EXPECT_EQ(HashLeaf(HexBytes(Str(row, "leaf"))), *leaf_hash) << Desc(row);
    }
    std::optional<Hash> root = MaybeHash(Str(row, "root"));
    std::vector<Hash> proof;
    bool well_formed = leaf_hash && root;
    for (const json::value& p : row.at("proof").as_array()) {
      std::optional<Hash> h = MaybeHash(std::string(p.as_string()));
      if (!h)
        well_formed = false;
      else
        proof.push_back(*h);
    }
    bool accepted =
        well_formed &&
        VerifyInclusion(U64(row, "index"), U64(row, "size"), *leaf_hash, proof, *root).ok();
    EXPECT_EQ(accepted, valid) << Desc(row) << " size=" << U64(row, "size")
                               << " index=" << U64(row, "index");
    (valid ? positives : negatives)++;
  }
  EXPECT_GT(positives, 0);
  EXPECT_GT(negatives, 0);
}

TEST(TlogVectors, Consistency) {
  int positives = 0, negatives = 0;
  for (const json::object& row : ReadRows("consistency.jsonl")) {
    bool valid = row.at("valid").as_bool();
    Bytes root1 = HexBytes(Str(row, "root1"));
    Bytes root2 = HexBytes(Str(row, "root2"));
    std::vector<Hash> proof;
    bool well_formed = true;
    for (const json::value& p : row.at("proof").as_array()) {
      std::optional<Hash> h = MaybeHash(std::string(p.as_string()));
      if (!h)
        well_formed = false;
      else
        proof.push_back(*h);
    }
    bool accepted =
        well_formed &&
        VerifyConsistency(U64(row, "size1"), U64(row, "size2"), root1, root2, proof).ok();
    EXPECT_EQ(accepted, valid) << Desc(row) << " " << U64(row, "size1") << "->"
                               << U64(row, "size2");
    (valid ? positives : negatives)++;
  }
  EXPECT_GT(positives, 0);
  EXPECT_GT(negatives, 0);
}

// The verifier for a signed-note row: a vkey string, a raw public key (named by the
// signature line), or a seed.
std::optional<NoteVerifier> RowVerifier(const json::object& row, const Note& note) {
  if (Has(row, "verifier_key")) {
    Result<NoteVerifier> v = ParseVerifierKey(Str(row, "verifier_key"));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return std::nullopt;
    return *v;
  }
  std::string name = note.signatures.empty() ? "" : note.signatures[0].name;
  Ed25519PublicKey pub;
  if (Has(row, "verifier_pubkey_hex")) {
    pub = *Ed25519PublicKeyFromBytes(HexBytes(Str(row, "verifier_pubkey_hex")));
  } else {
    pub = Ed25519PrivateKey::FromSeed(HexBytes(Str(row, "signer_seed_hex")))->public_key();
  }
  return NoteVerifier{name, NoteKeyId(name, kNoteAlgEd25519, pub), kNoteAlgEd25519, pub};
}

TEST(TlogVectors, SignedNotes) {
  int positives = 0, negatives = 0;
  for (const json::object& row : ReadRows("signed_notes.jsonl")) {
    bool valid = row.at("valid").as_bool();
    std::string message = Str(row, "text") + "\n" + Str(row, "signature_line") + "\n";
    Result<Note> note = ParseNote(message);
    bool accepted = false;
    if (note.ok()) {
      std::optional<NoteVerifier> verifier = RowVerifier(row, *note);
      accepted = verifier && VerifyNote(*note, *verifier).ok();
      if (accepted && verifier) {
        // A checkpoint-shaped text must also open as a checkpoint.
        Result<Checkpoint> cp = ParseCheckpoint(note->text);
        if (cp.ok() && cp->origin == verifier->name) {
          EXPECT_TRUE(OpenCheckpoint(message, *verifier).ok()) << Desc(row);
          EXPECT_EQ(FormatCheckpoint(*cp), note->text) << Desc(row);
        }
      }
    }
    EXPECT_EQ(accepted, valid) << Desc(row);
    if (Has(row, "signer_key") && valid) {
      // Our signer must reproduce the exact signature line (Ed25519 is deterministic).
      Result<NoteSigner> signer = ParseSignerKey(Str(row, "signer_key"));
      ASSERT_TRUE(signer.ok()) << signer.status().ToString();
      EXPECT_EQ(SignNote(Str(row, "text"), *signer), message) << Desc(row);
    }
    (valid ? positives : negatives)++;
  }
  EXPECT_GT(positives, 0);
  EXPECT_GT(negatives, 0);
}

TEST(TlogVectors, NoteKeys) {
  for (const json::object& row : ReadRows("note_keys.jsonl")) {
    bool valid = !Has(row, "valid") || row.at("valid").as_bool();
    std::string vkey = Str(row, "vkey");
    Result<NoteVerifier> verifier = ParseVerifierKey(vkey);
    EXPECT_EQ(verifier.ok(), valid) << vkey << " " << Desc(row);
    if (!verifier.ok()) continue;
    EXPECT_EQ(FormatVerifierKey(*verifier), vkey);
    if (Has(row, "skey")) {
      Result<NoteSigner> signer = ParseSignerKey(Str(row, "skey"));
      ASSERT_TRUE(signer.ok()) << signer.status().ToString();
      EXPECT_EQ(FormatSignerKey(*signer), Str(row, "skey"));
      EXPECT_EQ(FormatVerifierKey(VerifierFor(*signer)), vkey);
    }
    if (Has(row, "skey_seed_hex")) {
      Result<Ed25519PrivateKey> key =
          Ed25519PrivateKey::FromSeed(HexBytes(Str(row, "skey_seed_hex")));
      ASSERT_TRUE(key.ok());
      Result<NoteSigner> signer = MakeNoteSigner(verifier->name, *key);
      ASSERT_TRUE(signer.ok());
      EXPECT_EQ(FormatVerifierKey(VerifierFor(*signer)), vkey);
    }
  }
}

TEST(TlogVectors, Cosignatures) {
  for (const json::object& row : ReadRows("cosignatures.jsonl")) {
    std::string kind = Str(row, "kind");
    if (kind == "timestamp_only") {
      Bytes blob = *Base64Decode(Str(row, "sig_b64"));
      NoteSignature s{"x", GetBigEndian32(blob.data()), Bytes(blob.begin() + 4, blob.end())};
      EXPECT_EQ(*CosignatureTimestamp(s), U64(row, "timestamp"));
    } else if (kind == "signed_message_format") {
      EXPECT_EQ(CosignatureMessage(Str(row, "checkpoint_text"), U64(row, "timestamp")),
                Str(row, "signed_message"));
    } else if (kind == "ed25519_cosignature_v1") {
      Ed25519PrivateKey key = *Ed25519PrivateKey::FromSeed(HexBytes(Str(row, "cosigner_seed_hex")));
      std::string name = Str(row, "cosigner_name");
      NoteVerifier v{name, NoteKeyId(name, kNoteAlgCosignatureV1, key.public_key()),
                     kNoteAlgCosignatureV1, key.public_key()};
      Result<Note> note = ParseNote(Str(row, "text") + "\n" + Str(row, "signature_line") + "\n");
      bool accepted = note.ok() && VerifyNote(*note, v).ok();
      EXPECT_EQ(accepted, row.at("valid").as_bool()) << Desc(row);
      if (accepted) {
        uint64_t ts = U64(row, "expected_timestamp");
        EXPECT_EQ(*CosignatureTimestamp(note->signatures[0]), ts);
        // Ed25519 is deterministic: our cosigner reproduces the vector's line byte for byte.
        NoteSigner signer = *MakeNoteSigner(name, key);
        EXPECT_EQ(CosignatureVerifierFor(signer).key_id, v.key_id);
        EXPECT_EQ(FormatSignatureLine(CosignNote(Str(row, "text"), signer, ts)),
                  Str(row, "signature_line") + "\n");
      }
    } else {
      ADD_FAILURE() << "unknown kind " << kind;
    }
  }
}

}  // namespace
}  // namespace fundledger

#include "crypto/tlog_tiles.h"

namespace fundledger {
namespace {

TEST(TlogVectors, Tiles) {
  int checked = 0;
  for (const json::object& row : ReadRows("tiles.jsonl")) {
    std::string kind = Str(row, "kind");
    if (kind == "tile_content") {
      MemoryTree tree;
      for (const json::value& leaf : row.at("leaves").as_array())
        tree.Append(HashLeaf(HexBytes(std::string(leaf.as_string()))));
      const json::array& hashes = row.at("hashes").as_array();
      for (size_t i = 0; i < hashes.size(); ++i) {
        EXPECT_EQ(HashHex(*tree.ReadNode(0, i)), hashes[i].as_string()) << Str(row, "path");
      }
      EXPECT_EQ(TilePath(static_cast<int>(U64(row, "level")), U64(row, "index"), U64(row, "width")),
                Str(row, "path"));
    } else if (kind == "bundle_content") {
      std::vector<Bytes> entries;
      for (const json::value& e : row.at("entries").as_array())
        entries.push_back(HexBytes(std::string(e.as_string())));
      std::vector<ByteView> views(entries.begin(), entries.end());
      std::string bundle = EncodeEntryBundle(views);
      EXPECT_EQ(HexEncode(AsBytes(bundle)), Str(row, "bundle_hex"));
      Result<std::vector<Bytes>> back = DecodeEntryBundle(AsBytes(bundle), entries.size());
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, entries);
      EXPECT_EQ(EntryBundlePath(U64(row, "index"), U64(row, "width")), Str(row, "path"));
    } else if (kind == "tile_path") {
      EXPECT_EQ(TilePath(static_cast<int>(U64(row, "level")), U64(row, "index"), U64(row, "width")),
                Str(row, "path"));
    } else if (kind == "bundle_path") {
      EXPECT_EQ(EntryBundlePath(U64(row, "index"), U64(row, "width")), Str(row, "path"));
    } else if (kind == "bundle_path_for_entry") {
      EXPECT_EQ(EntryBundlePathFor(U64(row, "entry_index"), U64(row, "tree_size")),
                Str(row, "path"));
    } else if (kind == "parse_tile_path") {
      Result<TileRef> ref = ParseTilePath(Str(row, "level_str"), Str(row, "index_str"));
      bool valid = row.at("valid").as_bool();
      EXPECT_EQ(ref.ok(), valid) << Str(row, "level_str") << "/" << Str(row, "index_str");
      if (ref.ok() && valid) {
        EXPECT_EQ(ref->level, static_cast<int>(U64(row, "level")));
        EXPECT_EQ(ref->index, U64(row, "index"));
        EXPECT_EQ(ref->width, U64(row, "width"));
      }
    } else if (kind == "index_encoding") {
      EXPECT_EQ(EncodeTileIndex(U64(row, "index")), Str(row, "encoded"));
    } else if (kind == "tile_counts") {
      std::vector<TileLevelCount> counts = TileCounts(U64(row, "tree_size"));
      const json::array& levels = row.at("levels").as_array();
      ASSERT_EQ(counts.size(), levels.size());
      for (size_t i = 0; i < levels.size(); ++i) {
        EXPECT_EQ(counts[i].full, levels[i].at("full").to_number<uint64_t>());
        EXPECT_EQ(counts[i].partial_width, levels[i].at("partial_width").to_number<uint64_t>());
      }
    } else {
      ADD_FAILURE() << "unknown kind " << kind;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 68);
}

}  // namespace
}  // namespace fundledger
