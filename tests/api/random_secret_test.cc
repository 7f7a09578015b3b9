// Random secrets (api/random_secret.h) and the three makers built on them: bearer tokens,
// console sessions and their CSRF tokens, demo passwords. Each secret has exactly the bytes asked
// for, in its encoding, and no two draws are alike.
#include "api/random_secret.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "api/demo.h"
#include "api/staff_sessions.h"
#include "api/tokens.h"
#include "tests/temp_dir.h"

namespace fundledger::testing {
namespace {

TEST(RandomSecret, EncodesExactlyTheBytesAskedFor) {
  size_t seen = 0;
  Result<std::string> text = RandomSecret(24, "a test", [&](ByteView random) {
    seen = random.size();
    return HexEncode(random);
  });
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(seen, 24u);
  EXPECT_TRUE(std::regex_match(*text, std::regex("[0-9a-f]{48}"))) << *text;
}

TEST(RandomSecret, NoTwoDrawsAreAlike) {
  std::set<std::string> drawn;
  constexpr int kDraws = 1000;
  for (int i = 0; i < kDraws; ++i) drawn.insert(*RandomSecret(16, "a test", HexEncode));
  EXPECT_EQ(drawn.size(), static_cast<size_t>(kDraws));
}

TEST(RandomSecretDeathTest, AByteCountOutsideItsLimitStopsTheProgram) {
  EXPECT_DEATH((void)RandomSecret(0, "a test", HexEncode), "");
  EXPECT_DEATH((void)RandomSecret(kRandomSecretBytesMax + 1, "a test", HexEncode), "");
  EXPECT_TRUE(RandomSecret(kRandomSecretBytesMax, "a test", HexEncode).ok());
}

TEST(RandomSecret, BearerTokensAreThePrefixAnd256RandomBits) {
  TempDir dir;
  TokenStore store(dir.path());
  Result<std::string> a = store.Add("clerk.li", "maker", "");
  Result<std::string> b = store.Add("clerk.li", "maker", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(std::regex_match(*a, std::regex("fl_[0-9a-f]{64}"))) << *a;
  EXPECT_NE(*a, *b);
}

TEST(RandomSecret, ASessionAndItsCsrfTokenAreSeparate256BitSecrets) {
  StaffSessions sessions;
  Result<StaffSession> s = sessions.Start(Principal{"", "clerk.li", fb::Role::maker, ""}, 0);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(std::regex_match(s->id, std::regex("[0-9a-f]{64}"))) << s->id;
  EXPECT_TRUE(std::regex_match(s->csrf_token, std::regex("[0-9a-f]{64}"))) << s->csrf_token;
  EXPECT_NE(s->id, s->csrf_token);
}

TEST(RandomSecret, DemoPasswordsAreThreeGroupsOfFourUnmistakableCharacters) {
  Result<std::string> a = DemoPassword();
  Result<std::string> b = DemoPassword();
  ASSERT_TRUE(a.ok() && b.ok());
  const std::regex shape("[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}");
  EXPECT_TRUE(std::regex_match(*a, shape)) << *a;
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace fundledger::testing
