// The real `fundledger serve` against clients that do not play by the rules: malformed HTTP,
// oversized bodies without a token, more connections than it has file descriptors for, slow
// clients, and a field given both in the body and in the query. Every wait is bounded; no
// test sleeps for timing.
#include <boost/json.hpp>
#include <chrono>
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
    std::istringstream lines(demo.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string word, role, actor, token;
      if (words >> word >> role >> actor >> token && word == "token") tokens_[role] = token;
    }
    ASSERT_EQ(tokens_.size(), 6u) << demo.out;
  }

  TempDir tmp_;
  std::string dir_;
  std::map<std::string, std::string> tokens_;
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
      {"bad chunk size", "POST /v1/funds HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
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

}  // namespace
}  // namespace fundledger::testing
