// HmacSha256 against RFC 4231's test vectors, on the calling thread and on another (each
// thread keeps its own MAC context).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/aead.h"
#include "crypto/encoding.h"

namespace fundledger {
namespace {

struct Vector {
  std::string key_hex, data, mac_hex;
};

std::vector<Vector> Rfc4231() {
  return {
      // Test case 1.
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      // Test case 2: a key shorter than the block.
      {"4a656665", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      // Test case 6: a key longer than the block (131 bytes of 0xaa).
      {[] {
         std::string k;
         for (int i = 0; i < 131; ++i) k += "aa";
         return k;
       }(),
       "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
}

void ExpectVectors() {
  for (const Vector& v : Rfc4231()) {
    Result<Bytes> key = HexDecode(v.key_hex);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(HexEncode(HmacSha256(*key, AsBytes(v.data))), v.mac_hex) << v.data;
  }
}

TEST(HmacSha256, MatchesRfc4231) { ExpectVectors(); }

TEST(HmacSha256, MatchesRfc4231OnAnotherThreadAndAfterOtherKeys) {
  std::thread other([] { ExpectVectors(); });
  other.join();
  ExpectVectors();  // the context was reused with other keys in between
}

}  // namespace
}  // namespace fundledger
