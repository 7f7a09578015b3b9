// Issue 17 #12: `serve` verifies the store before it serves it, and a background scrub finds
// damage to entries and tree tiles written long before; the server then serves nothing but
// /healthz and /metrics, naming the damaged entry. Every wait is bounded.
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>

#include "ledger/log_format.h"
#include "tests/domain_fixture.h"
#include "tests/http_client.h"
#include "tests/test_util.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr uint64_t kDamaged = 5;  // an old entry, in a complete tile: the demo writes 300+

class ServeScrub : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("city");
    CommandResult demo =
        RunCommand(CliPath() + " demo --data " + dir_ + " --people 120 --months 1 2>/dev/null");
    ASSERT_EQ(demo.exit_code, 0) << demo.out;
  }

  void FlipEntryByte(uint64_t index) {
    RawStore raw(dir_);
    std::string bytes = raw.GetEntry(index);
    bytes[bytes.size() - 3] ^= 1;
    raw.PutEntry(index, bytes);
  }

  // Flips a bit of leaf `index`'s hash where the tree column keeps it: in its complete tile,
  // or its own leaf row while its tile is incomplete.
  void FlipLeafHash(uint64_t index, uint64_t log_size) {
    RawStore raw(dir_);
    std::string key = LeafRowKey(index);
    size_t offset = 0;
    if (index < log_size / kTileWidth * kTileWidth) {
      TilePlace at = PlaceOfNode(0, index);
      key = TileKey(at.tile_level, at.tile_index);
      offset = TileRowOffset(at.row) + at.position * kHashBytes;
    }
    std::string value = raw.Get(kTreeColumn, key);
    ASSERT_GT(value.size(), offset);
    value[offset] ^= 1;
    raw.Put(kTreeColumn, key, value);
  }

  // Serves the store once, so that it is verified through its size (the watermark).
  uint64_t ServeOnce() {
    ServerProcess server(dir_);
    EXPECT_GT(server.port(), 0);
    HttpClient client(server.port());
    HttpResult health = client.Request("GET", "/healthz");
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/verified"));
    return json::parse(health.body).at("log_size").to_number<uint64_t>();
  }

  // Polls /healthz until the server reports damage (or 30 s pass); returns its answer.
  HttpResult AwaitDamage(HttpClient& client) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    HttpResult health;
    do {
      health = client.Request("GET", "/healthz");
    } while (health.status == 200 && std::chrono::steady_clock::now() < deadline);
    return health;
  }

  void ExpectServingStoppedAt(uint64_t index, ServerProcess& server) {
    HttpClient client(server.port());
    HttpResult health = AwaitDamage(client);
    const std::string named = "damaged at entry " + std::to_string(index);
    EXPECT_EQ(health.status, 500) << health.body;
    EXPECT_NE(health.body.find(named), std::string::npos) << health.body;
    HttpResult read = client.Request("GET", "/v1/checkpoint");
    EXPECT_EQ(read.status, 500) << read.body;
    EXPECT_NE(read.body.find(named), std::string::npos) << read.body;
    HttpResult metrics = client.Request("GET", "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("fundledger_scrub_first_bad_index " + std::to_string(index)),
              std::string::npos)
        << metrics.body;
  }

  TempDir tmp_;
  std::string dir_;
};

// Never verified before (no watermark): `serve` verifies every entry first, and refuses to
// start on an altered one, naming it.
TEST_F(ServeScrub, AnAlteredEntryInANeverServedStoreStopsServeFromStarting) {
  FlipEntryByte(kDamaged);
  CommandResult r = RunCommand("timeout 60 " + CliPath() + " serve --data " + dir_ +
                               " --listen 127.0.0.1:0 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("serve refuses to start: the store is damaged at entry " +
                       std::to_string(kDamaged)),
            std::string::npos)
      << r.out;
}

// Verified before (a restart checks only what is new): the scrub, which starts at once, finds
// an entry altered below the watermark while the server was stopped.
TEST_F(ServeScrub, TheScrubFindsAnOldEntryAlteredWhileTheServerWasStopped) {
  ServeOnce();
  FlipEntryByte(kDamaged);
  ServerProcess server(dir_, "--scrub-interval-s 1 --scrub-entries-per-step 64");
  ASSERT_GT(server.port(), 0);
  ExpectServingStoppedAt(kDamaged, server);
}

// The same for a leaf hash in the tree column's tiles: named at the entry it is the hash of.
TEST_F(ServeScrub, TheScrubFindsAnAlteredTreeTile) {
  const uint64_t size = ServeOnce();
  ASSERT_GT(size, kTileWidth);  // entry 5's hash is in a complete tile, not a leaf row
  FlipLeafHash(kDamaged, size);
  ServerProcess server(dir_, "--scrub-interval-s 1 --scrub-entries-per-step 64");
  ASSERT_GT(server.port(), 0);
  ExpectServingStoppedAt(kDamaged, server);
}

}  // namespace
}  // namespace fundledger::testing
