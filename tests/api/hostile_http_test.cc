// The real `fundledger serve` against clients that do not play by the rules: malformed HTTP,
// oversized bodies without a token, more connections than it has file descriptors for, slow
// clients, and a field given both in the body and in the query. Every wait is bounded; no
// test sleeps for timing.
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/domain_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

class HostileHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("city");
    CommandResult demo =
        RunCommand(CliPath() + " demo --data " + dir_ + " --people 20 --months 1 2>/dev/null");
    ASSERT_EQ(demo.exit_code, 0) << demo.out;
    tokens_ = DemoTokens(demo.out);
    ASSERT_EQ(tokens_.size(), 6u) << demo.out;
    maker_ = DemoSigner(dir_, "clerk.li", fb::Role::maker);
  }

  TempDir tmp_;
  std::string dir_;
  std::map<std::string, std::string> tokens_;
  RequestSigner maker_;  // the demo requires signed commands
};

TEST_F(HostileHttp, MalformedRequestsGetA400AndAClosedConnection) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage request line", "\x16\x03\x01garbage\r\n\r\n"},
      {"HTTP/0.9", "GET /healthz\r\n"},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
      {"bare LF request line", "GET /healthz HTTP/1.1\nHost: a\n\n"},
      {"bare LF header line", "GET /healthz HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"},
      {"Content-Length and Transfer-Encoding",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"Transfer-Encoding and Content-Length",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
       "Content-Length: 5\r\n\r\n0\r\n\r\n"},
      {"gzip coding and Content-Length",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
       "Content-Length: 2\r\n\r\n{}"},
      {"duplicate Content-Length, same value",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"},
      {"Content-Length as a list",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n{}"},
      {"duplicate Content-Length, two values",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"},
      {"NUL in a header", std::string("GET /healthz HTTP/1.1\r\nHost: a\0b\r\n\r\n", 37)},
      {"bad chunk size",
       "POST /v1/funds HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\n{}\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    RawConnection c(server.port());
    ASSERT_TRUE(c.connected()) << name;
    c.Send(bytes);
    bool closed = false;
    std::string answer = c.ReadUntilClosed(milliseconds(10'000), &closed);
    EXPECT_EQ(StatusOf(answer), 400) << name << ": " << answer;
    EXPECT_NE(answer.find("\"code\":\"invalid_argument\""), std::string::npos) << name << answer;
    EXPECT_TRUE(closed) << name << ": the connection was left open";
  }
  HttpClient client(server.port());
  EXPECT_EQ(client.Request("GET", "/healthz").status, 200);
}

// Issue 17 #4: eight callers without a token announcing 250 MiB bodies got them read and
// copied before the token was checked. Now the head decides: 413 before a byte of the body.
TEST_F(HostileHttp, NoOneWithoutAValidTokenCanMakeTheServerBufferABody) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  const uint64_t resident_before = ResidentBytes(server.pid());
  const std::vector<std::string> callers = {"", "Authorization: Bearer fl_not_a_token\r\n",
                                            "Authorization: Bearer " + tokens_["auditor"] + "\r\n"};
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 8; ++i) {
    auto c = std::make_unique<RawConnection>(server.port());
    ASSERT_TRUE(c->connected());
    // The auditor's token is valid, but its role may not post appropriations.
    c->Send("POST /v1/appropriations HTTP/1.1\r\nHost: a\r\nIdempotency-Key: big-" +
            std::to_string(i) + "\r\n" + callers[i % callers.size()] +
            "Content-Type: application/json\r\nContent-Length: 262144000\r\n\r\n");
    std::string head = c->ReadHead(milliseconds(10'000));
    EXPECT_EQ(StatusOf(head), 413) << "caller " << i << ": " << head;
    open.push_back(std::move(c));
  }
  // Chunked, so no length is announced: refused once the chunks pass the public limit.
  RawConnection chunked(server.port());
  chunked.Send(
      "POST /v1/appropriations HTTP/1.1\r\nHost: a\r\nIdempotency-Key: c\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  for (int i = 0; i < 4 && chunked.Send(chunk); ++i) {
  }
  EXPECT_EQ(StatusOf(chunked.ReadHead(milliseconds(10'000))), 413);
  const uint64_t resident_after = ResidentBytes(server.pid());
  EXPECT_LT(resident_after, resident_before + (uint64_t{32} << 20))
      << "resident " << (resident_before >> 20) << " MiB -> " << (resident_after >> 20) << " MiB";
  // A maker's token may post: its 1 MiB body is read and judged on its content.
  HttpClient maker(server.port());
  std::string padded = R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,)"
                       R"("source":"treasury","document":")" +
                       std::string(1 << 20, 'd') + "\"}";
  HttpResult r = maker.Command(maker_, fb::EventType::Appropriated, "/v1/appropriations",
                               tokens_["maker"], padded, "padded");
  EXPECT_NE(r.status, 413) << r.body.substr(0, 200);
  EXPECT_NE(r.status, 0);
}

// Issue 17 #2: one burst of connections past the descriptor limit stopped `accept` for good.
// With 64 descriptors (about 24 taken by the store and the server itself) a burst of 100
// connections is well past the limit; connections never take the last descriptors (the cap
// leaves a reserve), so nothing else fails for want of one (under UBSan the runtime's pipe
// probe did, reporting an invalid vptr and aborting), and once the burst is gone the server
// answers again.
TEST_F(HostileHttp, AcceptSurvivesABurstPastTheDescriptorLimit) {
  ServerProcessOptions options;
  options.shell_setup = "ulimit -n 64";
  ServerProcess server(dir_, options);
  ASSERT_GT(server.port(), 0);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<RawConnection>> burst;
    for (int i = 0; i < 100; ++i) burst.push_back(std::make_unique<RawConnection>(server.port()));
    for (auto& c : burst) c->Send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    burst.clear();
    // The server learns of the closed connections as it reads them; until then the cap may
    // still answer 503. Polling for that state, bounded.
    HttpClientOptions patient;
    patient.timeout = milliseconds(20'000);  // a deadline: the answer normally takes a few ms
    HttpClient client(server.port(), patient);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((status = client.Request("GET", "/healthz").status) == 503 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(50));
    EXPECT_EQ(status, 200) << "round " << round;
  }
}

// Past the per-client cap and past the total cap, a new connection is answered 503 saying
// which, and closed; other clients are still served.
TEST_F(HostileHttp, ConnectionsPastEitherCapGetA503) {
  ServerProcess server(dir_, "--max-connections 6 --max-connections-per-client 4");
  ASSERT_GT(server.port(), 0);
  auto refused = [&](const std::string& from) {
    RawConnection c(server.port(), from);
    bool closed = false;
    std::string answer = c.ReadUntilClosed(milliseconds(10'000), &closed);
    EXPECT_TRUE(closed) << from;
    return StatusOf(answer) == 503 ? answer : "not refused: " + answer;
  };
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConnection>(server.port()));
  EXPECT_NE(refused("127.0.0.1").find("this client holds its most connections (4)"),
            std::string::npos);
  HttpClientOptions other;
  other.source_address = "127.0.0.2";
  HttpClient second(server.port(), other);  // keeps its connection: 5 open
  EXPECT_EQ(second.Request("GET", "/healthz").status, 200);
  RawConnection third(server.port(), "127.0.0.3");  // 6 open
  EXPECT_NE(refused("127.0.0.4").find("the server holds its most connections (6)"),
            std::string::npos);
  EXPECT_EQ(second.Request("GET", "/healthz").status, 200);  // held connections still served
  // A slot freed is a slot taken again.
  held.pop_back();
  other.source_address = "127.0.0.4";
  other.timeout = milliseconds(2'000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    HttpClient fourth(server.port(), other);
    status = fourth.Request("GET", "/healthz").status;
  }
  EXPECT_EQ(status, 200);
}

// An offline command that writes, run while a server holds the store: a message naming the data
// directory and the running server, not RocksDB's lock error.
TEST_F(HostileHttp, WritingCommandsBesideARunningServerSaySoClearly) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  const std::string roll = tmp_.Sub("roll.csv");
  {
    std::ofstream out(roll);
    out << "beneficiary_id,program_id,amount\nB000001,dibao,1045.00\n";
  }
  for (const std::string& command :
       {" import " + roll + " --data " + dir_ +
            " --batch-id R1 --fund F-SUBSIDY --period 2025-03 --actor clerk.li",
        " post FundClosed --data " + dir_ +
            " --json '{\"fund_id\":\"F-SUNSHINE\",\"reason\":\"r\"}'" +
            " --actor admin.wang --role admin --key k1",
        " erase --data " + dir_ + " --beneficiary B000001 --reason test --actor admin.wang",
        " replay --repair --data " + dir_}) {
    CommandResult r = RunCommand(CliPath() + command + " 2>&1");
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out;
    EXPECT_NE(r.out.find("the data directory " + dir_ + " is in use: a server (fundledger serve"),
              std::string::npos)
        << command << ": " << r.out;
    EXPECT_EQ(r.out.find("LOCK"), std::string::npos) << r.out;
  }
}

// The issue's closing run: 2,000 connections from 20 addresses (slow heads that never finish,
// idle sockets, unauthenticated 250 MiB bodies) while a maker posts. /healthz keeps answering
// fast, and every post the server acknowledged is in the log afterwards.
TEST_F(HostileHttp, HealthAndEveryAcknowledgedPostSurviveHostileClients) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  std::vector<std::string> acknowledged;
  std::thread maker([&] {
    HttpClientOptions own;
    own.source_address = "127.0.0.2";
    HttpClient client(server.port(), own);
    for (int i = 0; i < 60; ++i) {
      std::string key = "hostile-run-" + std::to_string(i);
      HttpResult r = client.Command(
          maker_, fb::EventType::Appropriated, "/v1/appropriations", tokens_["maker"],
          R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":1,"source":"treasury","document":"d"})",
          key);
      if (r.status == 201) acknowledged.push_back(key);
    }
  });
  std::vector<std::unique_ptr<RawConnection>> hostile;
  for (int i = 0; i < 2000; ++i) {
    auto c =
        std::make_unique<RawConnection>(server.port(), "127.0.1." + std::to_string(10 + i % 20));
    switch (i % 4) {
      case 0:  // a slow client: a head that never ends
        c->Send("GET /v1/checkpoint HTTP/1.1\r\nHost: a\r\nX-Slow: ");
        break;
      case 1:  // an unauthenticated 250 MiB body
        c->Send(
            "POST /v1/appropriations HTTP/1.1\r\nHost: a\r\nIdempotency-Key: x\r\n"
            "Content-Length: 262144000\r\n\r\n" +
            std::string(65536, '{'));
        break;
      default:  // connected and silent
        break;
    }
    hostile.push_back(std::move(c));
  }
  HttpClientOptions watcher;
  watcher.source_address = "127.0.0.3";
  watcher.timeout = milliseconds(5'000);  // a deadline only
  HttpClient health(server.port(), watcher);
  auto best = std::chrono::milliseconds::max();
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(health.Request("GET", "/healthz").status, 200);
    best = std::min(
        best, std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start));
  }
  EXPECT_LT(best.count(), 100) << "the fastest of 5 /healthz under 2,000 hostile connections";
  maker.join();
  EXPECT_FALSE(acknowledged.empty());
  hostile.clear();
  // Each acknowledged post is in the log: its retry is answered from the log, appending nothing.
  HttpClient check(server.port());
  for (const std::string& key : acknowledged) {
    HttpResult r = check.Command(
        maker_, fb::EventType::Appropriated, "/v1/appropriations", tokens_["maker"],
        R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":1,"source":"treasury","document":"d"})",
        key);
    EXPECT_EQ(r.status, 200) << key << ": " << r.body;
    EXPECT_NE(r.body.find("\"replayed\":true"), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace fundledger::testing
