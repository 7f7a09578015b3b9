#include "crypto/note.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/checkpoint.h"
#include "crypto/key_file.h"

namespace fundledger {
namespace {

NoteSigner TestSigner(std::string_view name) {
  Bytes seed(32, 7);
  return *MakeNoteSigner(name, *Ed25519PrivateKey::FromSeed(seed));
}

TEST(Base64, StrictDecoding) {
  EXPECT_EQ(AsChars(*Base64Decode("aGVsbG8=")), "hello");
  EXPECT_FALSE(Base64Decode("aGVsbG9=").ok());  // non-zero padding bits
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());   // missing padding
  EXPECT_FALSE(Base64Decode("aGV=bG8=").ok());  // '=' inside
  EXPECT_FALSE(Base64Decode("aGVsbG8*").ok());
  for (size_t n = 0; n < 40; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + n);
    EXPECT_EQ(*Base64Decode(Base64Encode(b)), b);
  }
}

TEST(Note, SignParseVerifyRoundTrip) {
  NoteSigner signer = TestSigner("fundledger.example/log");
  std::string note = SignNote("fundledger.example/log\n5\n" + Base64Encode(Hash{}) + "\n", signer);
  Result<Checkpoint> cp = OpenCheckpoint(note, VerifierFor(signer));
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->size, 5u);
  EXPECT_EQ(cp->origin, "fundledger.example/log");
}

TEST(Note, RejectsTamperedAndForeignSignatures) {
  NoteSigner signer = TestSigner("log");
  std::string note = SignNote("log\n5\n" + Base64Encode(Hash{}) + "\n", signer);
  std::string tampered = note;
  tampered[4] = '6';  // size 5 -> 6
  EXPECT_FALSE(OpenCheckpoint(tampered, VerifierFor(signer)).ok());

  NoteSigner other = *MakeNoteSigner("log", Ed25519PrivateKey::Generate());
  Result<Checkpoint> foreign = OpenCheckpoint(note, VerifierFor(other));
  EXPECT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("no signature by log+"), std::string::npos);
}

TEST(Note, RejectsMalformedNotes) {
  EXPECT_FALSE(ParseNote("no blank line\n— a AAAA\n").ok());
  EXPECT_FALSE(ParseNote("text\n\n— a AAAAAAAA").ok());        // no final newline
  EXPECT_FALSE(ParseNote("text\n\n- a AAAAAAAA\n").ok());      // ASCII dash
  EXPECT_FALSE(ParseNote("te\x01xt\n\n— a AAAAAAAA\n").ok());  // control character
  EXPECT_FALSE(ParseNote("text\n\n— a+b AAAAAAAA\n").ok());    // '+' in key name
}

TEST(Checkpoint, RejectsMalformedBodies) {
  std::string root = Base64Encode(Hash{});
  EXPECT_TRUE(ParseCheckpoint("o\n12\n" + root + "\n").ok());
  EXPECT_TRUE(ParseCheckpoint("o\n12\n" + root + "\next\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n012\n" + root + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n-1\n" + root + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1 \n" + root + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n18446744073709551616\n" + root + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("\n1\n" + root + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\nAAAA\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\n" + root).ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\n" + root + "\n\n").ok());
}

TEST(KeyFile, WrittenWithMode0600AndReadBack) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fl_key_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "signing.key").string();
  NoteSigner signer = TestSigner("log");
  ASSERT_TRUE(WriteSignerKeyFile(path, signer).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<NoteSigner> back = ReadSignerKeyFile(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(FormatVerifierKey(VerifierFor(*back)), FormatVerifierKey(VerifierFor(signer)));
  EXPECT_FALSE(WriteSignerKeyFile(path, signer).ok());  // never overwrites a key
  ::chmod(path.c_str(), 0644);
  EXPECT_FALSE(ReadSignerKeyFile(path).ok());  // refuses a key others can read
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fundledger
