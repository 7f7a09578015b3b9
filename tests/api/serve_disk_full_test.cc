// `fundledger serve` on a disk that fills up, on a real (small) tmpfs: a write that finds the disk
// full fails and the process goes on; a server started on a full disk serves reads read-only and
// says so; once space returns, writes are taken again with nobody restarting anything. Mounting
// needs privileges: where a tmpfs cannot be mounted the tests skip and say why (the same faults
// are injected through a RocksDB Env in tests/ledger/disk_full_test.cc).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/http_client.h"
#include "tests/test_util.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

constexpr auto kResumeWithin = std::chrono::seconds(60);
constexpr int kPostsOnAFullDiskMax = 20'000;

class ServeOnAFullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = tmp_.Sub("small-disk");
    std::filesystem::create_directories(mount_);
    CommandResult m = RunCommand("mount -t tmpfs -o size=8m tmpfs " + mount_ + " 2>&1");
    if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << m.out;
    mounted_ = true;
    dir_ = mount_ + "/ledger";
    CommandResult init =
        RunCommand(CliPath() + " init --data " + dir_ + " --origin full.local 2>&1");
    ASSERT_EQ(init.exit_code, 0) << init.out;
    CommandResult token = RunCommand(CliPath() + " token add --data " + dir_ +
                                     " --actor admin.zhao --role admin 2>/dev/null");
    ASSERT_EQ(token.exit_code, 0) << token.out;
    token_ = token.out.substr(token.out.rfind(' ') + 1);
    token_.erase(token_.find_last_not_of("\n") + 1);
  }
  void TearDown() override {
    if (mounted_) {
      EXPECT_EQ(RunCommand("umount " + mount_ + " 2>&1").exit_code, 0);
    }
  }

  void FillTheDisk() {
    RunCommand("dd if=/dev/zero of=" + mount_ + "/filler bs=64k 2>/dev/null");
    ASSERT_EQ(std::filesystem::space(mount_).available, 0u);
  }
  void FreeTheDisk() { std::filesystem::remove(mount_ + "/filler"); }

  HttpResult OpenFund(int port, const std::string& id) {
    HttpClient client(port);
    return client.Request(
        "POST", "/v1/funds", token_,
        R"({"fund_id":")" + id +
            R"(","name":"F","kind":"subsidy","organisation":"bureau","currency":"CNY"})",
        "open-" + id);
  }
  json::object Health(int port) {
    HttpResult r = HttpClient(port).Request("GET", "/healthz");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).as_object() : json::object{};
  }
  // Retries the write until it is taken (the server reopens on its own), within kResumeWithin.
  HttpResult OpenFundOnceWritable(int port, const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + kResumeWithin;
    HttpResult r;
    while ((r = OpenFund(port, id)).status != 201 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return r;
  }

  TempDir tmp_;
  std::string mount_, dir_, token_;
  bool mounted_ = false;
};

TEST_F(ServeOnAFullDisk, AWriteThatFindsTheDiskFullFailsAndTheServerGoesOn) {
  ServerProcess server(dir_, "--quiet");
  ASSERT_GT(server.port(), 0);
  ASSERT_EQ(OpenFund(server.port(), "F1").status, 201);
  FillTheDisk();
  // The pages the store already holds take a few more entries; then the disk is full for it too.
  uint64_t acknowledged = 2;  // genesis and F1
  int refused = 0;
  for (int i = 0; i < kPostsOnAFullDiskMax && refused < 5; ++i) {
    HttpResult r = OpenFund(server.port(), "F-FULL" + std::to_string(i));
    ASSERT_NE(r.status, 0) << "the server went away";
    if (r.status == 201) {
      ++acknowledged;
    } else {
      EXPECT_EQ(r.status, 500) << r.body;
      EXPECT_NE(r.body.find("disk is full"), std::string::npos) << r.body;
      ++refused;
    }
  }
  ASSERT_EQ(refused, 5) << "the disk never filled up for the store";
  EXPECT_EQ(Health(server.port())["log_size"].to_number<uint64_t>(), acknowledged);
  FreeTheDisk();
  EXPECT_EQ(OpenFundOnceWritable(server.port(), "F2").status, 201);
  std::string output;
  EXPECT_EQ(server.Terminate(&output), 0) << output;
}

TEST_F(ServeOnAFullDisk, StartsReadOnlyOnAFullDiskAndTakesWritesOnceSpaceReturns) {
  FillTheDisk();
  ServerProcess server(dir_, "--quiet");
  ASSERT_GT(server.port(), 0) << "serve did not start on a full disk";
  json::object health = Health(server.port());
  EXPECT_EQ(health["status"], "read_only") << json::serialize(health);
  EXPECT_NE(json::serialize(health).find("disk is full"), std::string::npos);
  HttpResult refused = OpenFund(server.port(), "F1");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(HttpClient(server.port()).Request("GET", "/v1/funds", token_).status, 200);

  FreeTheDisk();
  EXPECT_EQ(OpenFundOnceWritable(server.port(), "F1").status, 201);
  EXPECT_EQ(Health(server.port())["status"], "ok");
  std::string output;
  EXPECT_EQ(server.Terminate(&output), 0) << output;
  EXPECT_NE(output.find("read-only"), std::string::npos) << output;
}

}  // namespace
}  // namespace fundledger::testing
