// `fundledger serve --cluster` in processes against one PostgreSQL: the first node creates the
// log and writes it; a node started empty follows, serves reads with read-your-writes
// (?min_size), answers writes 421 naming the writer; when the writer is killed (-9) the
// follower takes over, a retry with the same Idempotency-Key answers `replayed` and appends
// nothing, and the old writer restarted follows and reaches the same size and checkpoint. A
// writer paused (SIGSTOP) loses its lease to the follower; resumed, it appends nothing, steps
// down and answers 421 naming the new writer. A node started empty on a log whose row was
// altered in PostgreSQL stops applying at that row, names it, and serves what it verified. A
// node follows on a thread niced below the threads it serves and writes with.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "api/cluster_node.h"
#include "cluster/follow_priority.h"
#include "ledger/log_format.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;
constexpr auto kRoleWait = std::chrono::seconds(60);

// The nice value in /proc/PID/task/TID/stat (proc(5): the 17th field after the name).
int NiceOf(const std::filesystem::path& task) {
  std::string stat;
  std::getline(std::ifstream(task / "stat"), stat);
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
  return fields.size() > 16 ? std::stoi(fields[16]) : -100;
}

// The nice value of each of `pid`'s threads named `name` (what ps shows).
std::vector<int> ThreadNices(int pid, const std::string& name) {
  std::vector<int> nices;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm == name) nices.push_back(NiceOf(task.path()));
  }
  return nices;
}

// A node serves (its main thread's priority) and keeps its lease at the process's priority, and
// follows below it; while it follows, its own autogroup is below the one it writes in, and its
// ledger's threads (the domain's helpers, the log's writer) are below serving too when the node
// may raise them again on taking over; all are back at serving once the node writes.
void ExpectPriorities(int pid, bool follows) {
  const int serving = NiceOf("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid));
  const int below = std::min(serving + kFollowNiceIncrement, kNiceLowest);
  EXPECT_EQ(ThreadNices(pid, kFollowThreadName), std::vector<int>{below});
  EXPECT_EQ(ThreadNices(pid, kLeaseThreadName), std::vector<int>{serving});
  // A node in a session of its own: its autogroup follows below the priority it serves at.
  std::ifstream group("/proc/" + std::to_string(pid) + "/autogroup");  // "/autogroup-7 nice 0"
  std::string name, word;
  int group_nice = -100;
  if (group.is_open()) {  // a kernel with autogroups
    ASSERT_TRUE(group >> name >> word >> group_nice);
    EXPECT_EQ(group_nice, follows ? kFollowNiceIncrement : 0);
  }
  const bool ledger_below = follows && CanRaisePriority();
  EXPECT_EQ(ThreadNices(pid, "fl-domain-0"), std::vector<int>{ledger_below ? below : serving});
  // The log's writer thread and its answerer carry the program's name, as the HTTP threads do.
  const std::vector<int> unnamed = ThreadNices(pid, "fundledger");
  const auto unnamed_below = std::count(unnamed.begin(), unnamed.end(), below);
  if (ledger_below) {
    EXPECT_GE(unnamed_below, 2);
  } else {
    EXPECT_EQ(unnamed_below, 0);
  }
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class ClusterServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingForCluster(/*patroni=*/false);
    if (!missing.empty()) GTEST_SKIP() << missing;
    pg_ = std::make_unique<TestPostgres>();
    ASSERT_TRUE(pg_->ok());
    json::array nodes;
    for (int i = 0; i < 2; ++i) {
      ports_[i] = FreePort();
      nodes.push_back(json::object{{"name", "n" + std::to_string(i)},
                                   {"url", "http://127.0.0.1:" + std::to_string(ports_[i])}});
    }
    for (int i = 0; i < 2; ++i) {
      data_[i] = tmp_.Sub("n" + std::to_string(i));
      std::filesystem::create_directories(data_[i]);
      std::filesystem::permissions(data_[i], std::filesystem::perms::owner_all);
      config_[i] = tmp_.Sub("n" + std::to_string(i) + ".json");
      std::ofstream(config_[i]) << json::serialize(json::object{{"dsn", pg_->dsn()},
                                                                {"origin", "cluster.test/ledger"},
                                                                {"node", "n" + std::to_string(i)},
                                                                {"data", data_[i]},
                                                                {"nodes", nodes}});
    }
  }

  std::unique_ptr<ServerProcess> Start(int i, bool own_session = false) {
    ServerProcessOptions o;
    o.own_session = own_session;
    o.command = "serve --cluster " + config_[i] + " --quiet";
    o.listen = "127.0.0.1:" + std::to_string(ports_[i]);
    auto p = std::make_unique<ServerProcess>(data_[i], o);
    EXPECT_EQ(p->port(), ports_[i]);
    return p;
  }

  json::object Health(int i) {
    HttpResult r = HttpClient(ports_[i]).Request("GET", "/healthz");
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return ec || !v.is_object() ? json::object{} : v.as_object();
  }
  // Polls /healthz until the node has `role` (bounded by kRoleWait).
  bool WaitForRole(int i, const std::string& role) {
    const auto deadline = std::chrono::steady_clock::now() + kRoleWait;
    while (std::chrono::steady_clock::now() < deadline) {
      json::object h = Health(i);
      if (h.contains("role") && h.at("role").as_string() == role) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  HttpResult OpenFund(int i, const std::string& id) {
    return HttpClient(ports_[i]).Request(
        "POST", "/v1/funds", token_,
        R"({"fund_id":")" + id +
            R"(","name":"F","kind":"subsidy","organisation":"bureau","currency":"CNY"})",
        "open-" + id);
  }

  // Node 0 writes and holds a token; node 1, deployed with its key and tokens, follows.
  void StartWriterAndFollower(bool own_sessions = false) {
    servers_[0] = Start(0, own_sessions);
    ASSERT_TRUE(WaitForRole(0, "writer"));
    CommandResult token = RunCommand(CliPath() + " token add --data " + data_[0] +
                                     " --actor admin.zhao --role admin 2>/dev/null");
    ASSERT_EQ(token.exit_code, 0) << token.out;
    token_ = token.out.substr(token.out.rfind(' ') + 1);
    token_.erase(token_.find_last_not_of('\n') + 1);
    // Deploying a node: the log's signing key and the token table, before it first starts.
    for (const char* file : {"/signing.key", "/tokens"})
      std::filesystem::copy_file(data_[0] + file, data_[1] + file);
  }

  std::unique_ptr<TestPostgres> pg_;
  TempDir tmp_;
  std::unique_ptr<ServerProcess> servers_[2];  // stopped before tmp_ is removed
  int ports_[2] = {};
  std::string data_[2], config_[2];
  std::string token_;
};

TEST_F(ClusterServeTest, AFollowerServesReadsTakesOverAndTheOldWriterFollows) {
  ASSERT_NO_FATAL_FAILURE(StartWriterAndFollower(/*own_sessions=*/true));
  std::unique_ptr<ServerProcess> writer = std::move(servers_[0]);

  ASSERT_EQ(OpenFund(0, "F-1").status, 201);
  HttpResult second = OpenFund(0, "F-2");
  ASSERT_EQ(second.status, 201) << second.body;
  const uint64_t size = std::stoull(second.headers.at("fundledger-log-size"));

  auto follower = Start(1, /*own_session=*/true);
  ASSERT_TRUE(WaitForRole(1, "follower"));
  ExpectPriorities(follower->pid(), /*follows=*/true);
  HttpResult read = HttpClient(ports_[1]).Request(
      "GET", "/v1/funds/F-2?min_size=" + std::to_string(size), token_);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_GE(std::stoull(read.headers.at("fundledger-log-size")), size);
  HttpResult ahead = HttpClient(ports_[1]).Request(
      "GET", "/v1/funds?min_size=" + std::to_string(size + 1000), token_);
  EXPECT_EQ(ahead.status, 503);
  EXPECT_EQ(ahead.headers["retry-after"], "1");
  HttpResult misdirected = OpenFund(1, "F-3");
  ASSERT_EQ(misdirected.status, 421) << misdirected.body;
  EXPECT_EQ(json::parse(misdirected.body).at("writer").as_string(),
            "http://127.0.0.1:" + std::to_string(ports_[0]));

  // The writer dies; the follower takes over and a retry of the last post appends nothing.
  ASSERT_EQ(::kill(writer->pid(), SIGKILL), 0);
  writer.reset();
  ASSERT_TRUE(WaitForRole(1, "writer"));
  ExpectPriorities(follower->pid(), /*follows=*/false);
  HttpResult retry = OpenFund(1, "F-2");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_TRUE(json::parse(retry.body).at("replayed").as_bool()) << retry.body;
  HttpResult third = OpenFund(1, "F-3");
  ASSERT_EQ(third.status, 201) << third.body;
  const uint64_t final_size = std::stoull(third.headers.at("fundledger-log-size"));

  // The old writer, restarted, follows the new one to the same size and checkpoint.
  writer = Start(0);
  ASSERT_TRUE(WaitForRole(0, "follower"));
  HttpResult caught = HttpClient(ports_[0]).Request(
      "GET", "/v1/checkpoint?min_size=" + std::to_string(final_size), token_);
  ASSERT_EQ(caught.status, 200) << caught.body;
  EXPECT_EQ(caught.body, HttpClient(ports_[1]).Request("GET", "/v1/checkpoint", token_).body);
  EXPECT_EQ(Health(0).at("applied_size").to_number<uint64_t>(), final_size);
}

// Continues a stopped process however the test ends (a stopped server ignores SIGTERM).
class Paused {
 public:
  explicit Paused(int pid) : pid_(pid) { ::kill(pid_, SIGSTOP); }
  ~Paused() { Resume(); }
  void Resume() {
    if (pid_ != 0) ::kill(pid_, SIGCONT);
    pid_ = 0;
  }

 private:
  int pid_;
};

TEST_F(ClusterServeTest, APausedWriterLosesItsLeaseAndAppendsNothingWhenItResumes) {
  ASSERT_NO_FATAL_FAILURE(StartWriterAndFollower());
  ASSERT_EQ(OpenFund(0, "F-1").status, 201);
  servers_[1] = Start(1);
  ASSERT_TRUE(WaitForRole(1, "follower"));

  // Paused, the writer stops keeping its session: the server ends it after
  // kPgWriterSessionIdleMs, which frees the lock, and the follower takes over.
  Paused paused(servers_[0]->pid());
  ASSERT_TRUE(WaitForRole(1, "writer"));
  HttpResult taken = OpenFund(1, "F-2");
  ASSERT_EQ(taken.status, 201) << taken.body;

  // Resumed, its next append is refused (the lock is another session's, the epoch moved) and it
  // steps down: nothing it was sent is acknowledged, and it then names the new writer.
  paused.Resume();
  const std::string new_writer = "http://127.0.0.1:" + std::to_string(ports_[1]);
  HttpResult r;
  int sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + kRoleWait;
  do {
    r = OpenFund(0, "F-stale-" + std::to_string(sent++));
    ASSERT_NE(r.status, 201) << r.body;
    ASSERT_NE(r.status, 200) << r.body;
  } while (r.status != 421 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(r.status, 421) << r.body;
  EXPECT_EQ(json::parse(r.body).at("writer").as_string(), new_writer);
  EXPECT_TRUE(WaitForRole(0, "follower"));

  HttpResult last = OpenFund(1, "F-3");
  ASSERT_EQ(last.status, 201) << last.body;
  const std::string size = last.headers.at("fundledger-log-size");
  HttpResult funds = HttpClient(ports_[0]).Request("GET", "/v1/funds?min_size=" + size, token_);
  ASSERT_EQ(funds.status, 200) << funds.body;
  const json::value listing = json::parse(funds.body);  // outlives the loop over it
  for (const json::value& f : listing.at("funds").as_array())
    EXPECT_EQ(f.at("fund_id").as_string().find("F-stale-"), std::string::npos) << funds.body;
  EXPECT_EQ(listing.at("funds").as_array().size(), 3u) << funds.body;
  EXPECT_EQ(HttpClient(ports_[0]).Request("GET", "/v1/checkpoint", token_).body,
            HttpClient(ports_[1]).Request("GET", "/v1/checkpoint", token_).body);
}

// A follower held back while it reads a step (log_entries locked against reads) already
// reports the entries it is behind: it learns the log of record's size before it applies.
TEST_F(ClusterServeTest, AFollowerHeldBackInAStepReportsItsLag) {
  ASSERT_NO_FATAL_FAILURE(StartWriterAndFollower());
  ASSERT_EQ(OpenFund(0, "F-1").status, 201);
  servers_[1] = Start(1);
  ASSERT_TRUE(WaitForRole(1, "follower"));
  const uint64_t before = std::stoull(
      HttpClient(ports_[0]).Request("GET", "/v1/funds", token_).headers.at("fundledger-log-size"));
  ASSERT_EQ(HttpClient(ports_[1])
                .Request("GET", "/v1/funds?min_size=" + std::to_string(before), token_)
                .status,
            200);

  std::unique_ptr<PgConnection> admin = pg_->Admin();
  uint64_t size = 0;
  {
    Paused paused(servers_[1]->pid());  // posts the follower cannot have read yet
    for (int i = 2; i <= 4; ++i) {
      HttpResult r = OpenFund(0, "F-" + std::to_string(i));
      ASSERT_EQ(r.status, 201) << r.body;
      size = std::stoull(r.headers.at("fundledger-log-size"));
    }
    for (const char* sql : {"BEGIN", "LOCK TABLE log_entries IN ACCESS EXCLUSIVE MODE"}) {
      Result<PgResult> r = admin->Exec(sql, DeadlineAfterMs(30'000));
      ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    }
  }
  // Resumed, the follower may first act on the notification of F-2's append alone (each append
  // queues its own), so the lag it reports can grow in steps before it reaches all three.
  const auto deadline = std::chrono::steady_clock::now() + kRoleWait;
  json::object health = Health(1);
  while (std::chrono::steady_clock::now() < deadline &&
         !(health.contains("lag_entries") &&
           health.at("lag_entries").to_number<uint64_t>() >= size - before)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    health = Health(1);
  }
  ASSERT_TRUE(health.contains("lag_entries")) << json::serialize(health);
  EXPECT_EQ(health["lag_entries"].to_number<uint64_t>(), size - before) << json::serialize(health);
  EXPECT_EQ(health["record_size"].to_number<uint64_t>(), size);
  EXPECT_EQ(health["applied_size"].to_number<uint64_t>(), before);
  EXPECT_NE(HttpClient(ports_[1])
                .Request("GET", "/metrics")
                .body.find("fundledger_cluster_lag_entries " + std::to_string(size - before)),
            std::string::npos);

  // The writer says where its commits spent their time: most of it in PostgreSQL.
  const std::string writer_metrics = HttpClient(ports_[0]).Request("GET", "/metrics").body;
  const std::string record_line = "\nfundledger_commit_record_seconds_total ";
  const size_t at = writer_metrics.find(record_line);
  ASSERT_NE(at, std::string::npos) << writer_metrics;
  EXPECT_GT(std::stod(writer_metrics.substr(at + record_line.size())), 0.0) << writer_metrics;

  ASSERT_TRUE(admin->Exec("ROLLBACK", DeadlineAfterMs(30'000)).ok());  // let it read
  HttpResult caught =
      HttpClient(ports_[1]).Request("GET", "/v1/funds?min_size=" + std::to_string(size), token_);
  ASSERT_EQ(caught.status, 200) << caught.body;
  health = Health(1);
  EXPECT_EQ(health["lag_entries"].to_number<uint64_t>(), 0u) << json::serialize(health);
  EXPECT_EQ(health["lag_ms"].to_number<int64_t>(), 0);
}

TEST_F(ClusterServeTest, ARowAlteredInPostgresStopsTheNodeThatReadsItAtThatIndex) {
  ASSERT_NO_FATAL_FAILURE(StartWriterAndFollower());
  ASSERT_EQ(OpenFund(0, "F-1").status, 201);
  HttpResult second = OpenFund(0, "F-2");
  ASSERT_EQ(second.status, 201) << second.body;
  const uint64_t altered = std::stoull(second.headers.at("fundledger-log-size")) - 1;

  // F-2's entry changed by someone with the database's superuser, its leaf hash made to match.
  std::unique_ptr<PgConnection> admin = pg_->Admin();
  const std::string where = " WHERE idx = " + std::to_string(altered);
  for (const std::string& sql :
       {std::string("ALTER TABLE log_entries DISABLE TRIGGER USER"),
        "UPDATE log_entries SET entry = overlay(entry placing '\\xff'::bytea from 40 for 1), "
        "leaf_hash = sha256('\\x00'::bytea || overlay(entry placing '\\xff'::bytea from 40 for "
        "1))" +
            where,
        std::string("ALTER TABLE log_entries ENABLE TRIGGER USER")}) {
    Result<PgResult> r = admin->Exec(sql, DeadlineAfterMs(30'000));
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  servers_[1] = Start(1);
  const auto deadline = std::chrono::steady_clock::now() + kRoleWait;
  json::object health = Health(1);
  while (std::chrono::steady_clock::now() < deadline &&
         !(health.contains("role") && health.at("role").as_string() == "stopped")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    health = Health(1);
  }
  ASSERT_EQ(health["role"].as_string(), "stopped") << json::serialize(health);
  EXPECT_NE(health["failure"].as_string().find("entry " + std::to_string(altered) + " "),
            std::string::npos)
      << json::serialize(health);
  EXPECT_EQ(health["applied_size"].to_number<uint64_t>(), altered);
  EXPECT_EQ(HttpClient(ports_[1]).Request("GET", "/healthz").status, 503);
  EXPECT_EQ(HttpClient(ports_[1]).Request("GET", "/v1/funds/F-1", token_).status, 200);
  EXPECT_EQ(HttpClient(ports_[1]).Request("GET", "/v1/funds/F-2", token_).status, 404);
}

}  // namespace
}  // namespace fundledger::testing
