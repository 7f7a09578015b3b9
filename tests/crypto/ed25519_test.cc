#include "crypto/ed25519.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/checkpoint.h"
#include "crypto/note.h"

namespace fundledger {
namespace {

Ed25519PrivateKey TestKey(uint8_t fill) { return *Ed25519PrivateKey::FromSeed(Bytes(32, fill)); }

Bytes ToBytes(ByteView bytes) { return Bytes(bytes.begin(), bytes.end()); }

Bytes Flipped(ByteView bytes, size_t bit) {
  Bytes out(bytes.begin(), bytes.end());
  out[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return out;
}

// y = 2 is not the y coordinate of any point on edwards25519 ((y^2 - 1) / (d y^2 + 1) has no
// square root): OpenSSL takes the 32 bytes as a key and refuses every signature with it.
Ed25519PublicKey NotAPoint() {
  Ed25519PublicKey key{};
  key[0] = 2;
  return key;
}

// The neutral element (0, 1), a point of small order. R = B (the base point) and S = 1 satisfy
// the cofactorless equation [S]B = R + [k]A for every message: which way OpenSSL decides, the
// verifier must decide the same.
Ed25519PublicKey SmallOrderKey() {
  Ed25519PublicKey key{};
  key[0] = 1;
  return key;
}
Bytes ForgedForSmallOrderKey() {
  Bytes sig(kEd25519SignatureBytes, 0x66);
  sig[0] = 0x58;  // R: the encoding of the base point, 0x58 then 31 bytes of 0x66
  std::fill(sig.begin() + 32, sig.end(), 0);
  sig[32] = 1;  // S = 1, little-endian
  return sig;
}

struct Case {
  std::string what;
  Ed25519PublicKey key;
  Bytes message;
  Bytes signature;
};

std::vector<Case> Cases() {
  Ed25519PrivateKey signer = TestKey(7);
  Bytes message = ToBytes(AsBytes("bench.local\n1000\nroot\n"));
  Bytes good = ToBytes(signer.Sign(message));
  Bytes longer = good;
  longer.push_back(0);
  return {
      {"good signature", signer.public_key(), message, good},
      {"empty message", signer.public_key(), {}, ToBytes(signer.Sign({}))},
      {"flipped bit in the message", signer.public_key(), Flipped(message, 13), good},
      {"flipped bit in R", signer.public_key(), message, Flipped(good, 5)},
      {"flipped bit in S", signer.public_key(), message, Flipped(good, 8 * 40 + 2)},
      {"S with its top bits set (not below the group order)", signer.public_key(), message,
       Flipped(good, 8 * 63 + 7)},
      {"wrong key", TestKey(8).public_key(), message, good},
      {"signature one byte short", signer.public_key(), message,
       Bytes(good.begin(), good.end() - 1)},
      {"signature one byte long", signer.public_key(), message, longer},
      {"empty signature", signer.public_key(), message, {}},
      {"key that is not a point", NotAPoint(), message, good},
      {"all-zero key", Ed25519PublicKey{}, message, good},
      {"small-order key, forged signature", SmallOrderKey(), message, ForgedForSmallOrderKey()},
  };
}

void ExpectSameAnswer(const Case& c, const Status& got) {
  Status want = Ed25519Verify(c.key, c.message, c.signature);
  EXPECT_EQ(got.ok(), want.ok()) << c.what;
  EXPECT_EQ(got.code(), want.code()) << c.what;
  EXPECT_EQ(got.message(), want.message()) << c.what;
}

TEST(Ed25519Verifier, AcceptsAndRefusesExactlyWhatEd25519VerifyDoes) {
  for (const Case& c : Cases())
    ExpectSameAnswer(c, Ed25519Verifier(c.key).Verify(c.message, c.signature));
}

TEST(Ed25519Verifier, AcceptsGoodSignaturesAndRefusesDamagedOnes) {
  for (const Case& c : Cases()) {
    Status st = Ed25519Verifier(c.key).Verify(c.message, c.signature);
    if (c.what == "good signature" || c.what == "empty message") {
      EXPECT_TRUE(st.ok()) << c.what << ": " << st.ToString();
    } else if (c.what.starts_with("small-order")) {
      continue;  // whatever OpenSSL decides; the test above holds the verifier to it
    } else {
      EXPECT_FALSE(st.ok()) << c.what;
      EXPECT_EQ(st.code(), StatusCode::kCorruption) << c.what;
    }
  }
}

// What crypto/README.md states of the strictness both keep: OpenSSL 3.0 refuses no small-order
// key. Fails (and the README is then out of date) if OpenSSL starts refusing such keys.
TEST(Ed25519Verify, AcceptsAForgeryUnderASmallOrderKeyAsOpenSsl30Does) {
  Bytes forged = ForgedForSmallOrderKey();
  EXPECT_TRUE(Ed25519Verify(SmallOrderKey(), AsBytes("any message"), forged).ok());
  EXPECT_TRUE(Ed25519Verifier(SmallOrderKey()).Verify(AsBytes("another"), forged).ok());
}

TEST(Ed25519Verifier, OneVerifierChecksManySignaturesAndKeepsItsKey) {
  Ed25519PrivateKey signer = TestKey(9);
  Ed25519Verifier verifier(signer.public_key());
  EXPECT_EQ(verifier.public_key(), signer.public_key());
  for (int i = 0; i < 8; ++i) {
    std::string message = "checkpoint " + std::to_string(i) + "\n";
    Ed25519Signature sig = signer.Sign(AsBytes(message));
    EXPECT_TRUE(verifier.Verify(AsBytes(message), sig).ok()) << i;
    EXPECT_FALSE(verifier.Verify(AsBytes(message + "x"), sig).ok()) << i;
  }
}

TEST(Ed25519Verifier, CopiesOutliveTheOriginal) {
  Ed25519PrivateKey signer = TestKey(10);
  Ed25519Signature sig = signer.Sign(AsBytes("m"));
  std::optional<Ed25519Verifier> original(std::in_place, signer.public_key());
  Ed25519Verifier copy = *original;
  original.reset();
  EXPECT_TRUE(copy.Verify(AsBytes("m"), sig).ok());
  EXPECT_FALSE(copy.Verify(AsBytes("n"), sig).ok());
}

TEST(Ed25519Verifier, DefaultIsTheAllZeroKey) {
  Ed25519Verifier verifier;
  EXPECT_EQ(verifier.public_key(), Ed25519PublicKey{});
  Case c{"default verifier", Ed25519PublicKey{}, Bytes{'m'},
         ToBytes(TestKey(11).Sign(AsBytes("m")))};
  ExpectSameAnswer(c, verifier.Verify(c.message, c.signature));
  EXPECT_FALSE(verifier.Verify(c.message, c.signature).ok());
}

// The chain walk verifies checkpoints with one verifier from several threads at once.
TEST(Ed25519Verifier, SharedBetweenThreadsAnswersAsAlone) {
  constexpr int kThreads = 4;
  constexpr int kRoundsPerThread = 6;
  std::vector<Case> cases = Cases();
  std::vector<Ed25519Verifier> verifiers;
  std::vector<Status> want;
  for (const Case& c : cases) {
    verifiers.emplace_back(c.key);
    want.push_back(Ed25519Verify(c.key, c.message, c.signature));
  }
  std::vector<std::vector<bool>> agreed(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRoundsPerThread; ++round) {
        for (size_t i = 0; i < cases.size(); ++i) {
          size_t k = (i + static_cast<size_t>(t)) % cases.size();  // threads out of step
          Status got = verifiers[k].Verify(cases[k].message, cases[k].signature);
          agreed[t].push_back(got.ok() == want[k].ok() && got.message() == want[k].message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(agreed[t].size(), cases.size() * kRoundsPerThread);
    for (size_t i = 0; i < agreed[t].size(); ++i) EXPECT_TRUE(agreed[t][i]) << t << " " << i;
  }
}

TEST(NoteVerifier, OneParsedKeyOpensCheckpointsFromSeveralThreads) {
  NoteSigner signer = *MakeNoteSigner("bench.local", TestKey(12));
  Result<NoteVerifier> verifier = ParseVerifierKey(FormatVerifierKey(VerifierFor(signer)));
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_EQ(verifier->key.public_key(), signer.key.public_key());
  constexpr int kThreads = 3;
  constexpr uint64_t kCheckpointsPerThread = 4;
  std::vector<uint64_t> opened(kThreads, 0);
  std::vector<uint64_t> refused(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 1; i <= kCheckpointsPerThread; ++i) {
        std::string note =
            SignNote(FormatCheckpoint({"bench.local", i * 100 + t, Hash{}, {}}), signer);
        Result<Checkpoint> cp = OpenCheckpoint(note, *verifier);
        if (cp.ok() && cp->size == i * 100 + t) ++opened[t];
        std::string tampered = note;
        tampered[tampered.find('\n') + 1] = '9';  // the size's first digit
        if (!OpenCheckpoint(tampered, *verifier).ok()) ++refused[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(opened[t], kCheckpointsPerThread) << t;
    EXPECT_EQ(refused[t], kCheckpointsPerThread) << t;
  }
}

// Hex of a 32-byte encoding, for the tables below.
Ed25519PublicKey KeyFromHex(const std::string& hex) {
  Ed25519PublicKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
  return key;
}

TEST(Ed25519CheckPublicKey, AcceptsEveryKeyASignerMakes) {
  for (int i = 0; i < 64; ++i) {
    Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
    EXPECT_TRUE(Ed25519CheckPublicKey(key.public_key()).ok()) << i;
  }
}

TEST(Ed25519CheckPublicKey, RefusesSmallOrderNonCanonicalAndOffCurveKeys) {
  const std::string ff(60, 'f');  // bytes 1-30 of p's encoding
  const std::vector<std::pair<std::string, Ed25519PublicKey>> refused = {
      {"the neutral point (order 1)", SmallOrderKey()},
      {"the all-zero encoding, y = 0 (order 4)", Ed25519PublicKey{}},
      {"a point of order 8",
       KeyFromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")},
      {"another point of order 8",
       KeyFromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")},
      {"y = p - 1 (order 2)", KeyFromHex("ec" + ff + "7f")},
      {"y = p, a non-canonical 0", KeyFromHex("ed" + ff + "7f")},
      {"y = p + 1, a non-canonical 1", KeyFromHex("ee" + ff + "7f")},
      {"y = 2, on no point of the curve", NotAPoint()},
  };
  for (const auto& [what, key] : refused) {
    Status s = Ed25519CheckPublicKey(key);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << what;
    EXPECT_NE(s.message().find("small order"), std::string::npos) << what << ": " << s.message();
  }
  // A signer's key plus a point of order 8: on the curve, of order 8l, outside the prime-order
  // group (verification with it accepts signatures no holder of the seed made for it).
  Ed25519PublicKey mixed{};
  ASSERT_EQ(crypto_core_ed25519_add(mixed.data(), TestKey(7).public_key().data(),
                                    refused[2].second.data()),
            0);
  EXPECT_EQ(Ed25519CheckPublicKey(mixed).code(), StatusCode::kInvalidArgument);
}

TEST(Ed25519CheckPublicKey, AVerifierKeyNamingASmallOrderKeyIsRefused) {
  NoteVerifier weak{"witness.example/w1", 0, kNoteAlgEd25519, SmallOrderKey()};
  weak.key_id = NoteKeyId(weak.name, weak.algorithm, SmallOrderKey());
  Result<NoteVerifier> parsed = ParseVerifierKey(FormatVerifierKey(weak));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("small order"), std::string::npos)
      << parsed.status().message();
  NoteVerifier good{"witness.example/w1", 0, kNoteAlgEd25519, TestKey(3).public_key()};
  good.key_id = NoteKeyId(good.name, good.algorithm, TestKey(3).public_key());
  EXPECT_TRUE(ParseVerifierKey(FormatVerifierKey(good)).ok());
}

}  // namespace
}  // namespace fundledger
