#include "tests/cluster/cluster_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "crypto/checkpoint.h"

extern char** environ;

namespace fundledger::testing {
namespace {

// PostgreSQL refuses to run as root: run its programs as postgres then.
std::string AsPostgres() { return ::geteuid() == 0 ? "runuser -u postgres -- " : ""; }

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// The postgres user must reach the temporary directory; `hand_over`: and write in it.
void OpenToPostgres(const std::string& dir, bool hand_over) {
  ::chmod(dir.c_str(), 0755);
  if (hand_over && ::geteuid() == 0) {
    EXPECT_EQ(RunCommand("chown postgres: " + dir).exit_code, 0);
  }
}

std::string ClusterScript() { return std::string(FUNDLEDGER_SOURCE_DIR) + "/scripts/cluster"; }

}  // namespace

std::string MissingForCluster(bool patroni) {
  namespace fs = std::filesystem;
  if (!fs::exists(std::string(kPgBinDir) + "/initdb")) {
    return "PostgreSQL 15 is not installed (scripts/setup installs postgresql-15)";
  }
  if (patroni && (RunCommand("command -v patroni").exit_code != 0 ||
                  RunCommand("command -v etcd").exit_code != 0)) {
    return "Patroni or etcd is not installed (scripts/setup installs patroni, etcd-server)";
  }
  return "";
}

CleanupIfKilled::CleanupIfKilled(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 3);  // the pipe's read end as fd 3
  // The outer shell exits at once; the subshell it leaves behind waits. The command goes in
  // the environment, so that no command line names what it cleans up.
  std::string script =
      "(read word <&3; [ \"$word\" = done ] || eval \"$FUNDLEDGER_CLEANUP\") "
      "</dev/null >/dev/null 2>&1 &";
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), script.data(), nullptr};
  std::vector<std::string> env_strings = {"FUNDLEDGER_CLEANUP=" + command};
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (spawned != 0) {
    ::close(fds[1]);
    ADD_FAILURE() << "cannot start the cleanup shell";
    return;
  }
  ::waitpid(pid, nullptr, 0);
  fd_ = fds[1];
}

CleanupIfKilled::~CleanupIfKilled() {
  if (fd_ < 0) return;
  EXPECT_EQ(::write(fd_, "done\n", 5), 5);
  ::close(fd_);
}

TestPostgres::TestPostgres()
    : data_(dir_.Sub("pg")),
      cleanup_(AsPostgres() + kPgBinDir + "/pg_ctl -D " + data_ + " -m immediate stop; rm -rf " +
               dir_.path()) {
  OpenToPostgres(dir_.path(), /*hand_over=*/true);
  const int port = FreeLoopbackPort();
  CommandResult init = RunCommand(AsPostgres() + kPgBinDir + "/initdb -D " + data_ +
                                  " -A trust -U test -E UTF8 --locale=C --no-sync");
  if (init.exit_code != 0) {
    ADD_FAILURE() << "initdb failed: " << init.out;
    return;
  }
  CommandResult start =
      RunCommand(AsPostgres() + kPgBinDir + "/pg_ctl -D " + data_ + " -w -t 60 -l " +
                 dir_.Sub("pg.log") + " -o \"-p " + std::to_string(port) + " -k " + dir_.path() +
                 " -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on\" start");
  if (start.exit_code != 0) {
    std::ifstream log(dir_.Sub("pg.log"));
    std::stringstream text;
    text << log.rdbuf();
    ADD_FAILURE() << "pg_ctl start failed: " << start.out << text.str();
    return;
  }
  dsn_ = "host=127.0.0.1 port=" + std::to_string(port) + " user=test dbname=postgres";
  ok_ = true;
}

TestPostgres::~TestPostgres() {
  RunCommand(AsPostgres() + kPgBinDir + "/pg_ctl -D " + data_ + " -m immediate -w -t 30 stop");
}

std::unique_ptr<PgConnection> TestPostgres::Admin() const {
  auto conn = PgConnection::Connect(dsn_, {{"application_name", "test-admin"}}, {});
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(*conn) : nullptr;
}

TestPostgres* PostgresSuite::pg_ = nullptr;

void PostgresSuite::SetUpTestSuite() {
  if (MissingForCluster(/*patroni=*/false).empty()) pg_ = new TestPostgres();
}

void PostgresSuite::TearDownTestSuite() {
  delete pg_;
  pg_ = nullptr;
}

void PostgresSuite::SetUp() {
  std::string missing = MissingForCluster(/*patroni=*/false);
  if (!missing.empty()) GTEST_SKIP() << missing;
  ASSERT_TRUE(pg_->ok());
}

std::unique_ptr<PgLogStore> PostgresSuite::Store(const std::string& origin, bool read_only) {
  auto store = PgLogStore::Connect(
      {.dsn = pg_->dsn(), .origin = origin, .read_only = read_only, .reconnect_wait_ms = 10'000});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<StoredEntry> PostgresSuite::ReadAll(const std::string& origin) {
  std::vector<StoredEntry> all;
  auto follower = Store(origin, /*read_only=*/true);
  for (;;) {
    auto batch = follower->ReadEntries(all.size(), kPgReadEntriesMax);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || batch->empty()) return all;
    for (StoredEntry& e : *batch) all.push_back(std::move(e));
  }
}

TestCluster::TestCluster(bool with_nodes)
    : cleanup_(ClusterScript() + " down " + dir_.Sub("c") + "; " + ClusterScript() + " down " +
               dir_.Sub("restored") + "; rm -rf " + dir_.path()),
      with_nodes_(with_nodes) {
  OpenToPostgres(dir_.path(), /*hand_over=*/false);  // scripts/cluster hands DIR/pg over
  ok_ = Up();
}

bool TestCluster::Up(bool with_nodes) {
  with_nodes_ = with_nodes;
  auto start = std::chrono::steady_clock::now();
  CommandResult up = RunCommand("FUNDLEDGER_CLI=" + CliPath() + " " + ClusterScript() + " up " +
                                dir_.Sub("c") + (with_nodes_ ? "" : " --no-nodes") + " 2>&1");
  up_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (up.exit_code != 0) {
    ADD_FAILURE() << "scripts/cluster up failed:\n" << up.out;
    return false;
  }
  Status();
  return !dsn_.empty();
}

bool TestCluster::CreateRollCity(size_t people) {
  namespace fs = std::filesystem;
  const std::string node = Path("nodes/n0");
  fs::create_directories(node);
  fs::permissions(node, fs::perms::owner_all);
  std::ofstream(node + "/node.json") << boost::json::serialize(boost::json::object{
      {"dsn", dsn_}, {"origin", kClusterOrigin}, {"node", "n0"}, {"data", node + "/data"}});
  CommandResult r = RunCommand(CliPath() + " roll-city --cluster " + node + "/node.json --people " +
                               std::to_string(people) + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::printf("%s", r.out.c_str());
  return r.exit_code == 0;
}

bool TestCluster::Backup() {
  CommandResult r = RunCommand(ClusterScript() + " backup " + dir_.Sub("c") + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return r.exit_code == 0;
}

std::string TestCluster::Restore() {
  CommandResult r = RunCommand(ClusterScript() + " restore " + dir_.Sub("c") + " --to " +
                               dir_.Sub("restored") + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  if (r.exit_code != 0) return "";
  std::ifstream file(dir_.Sub("restored/restore.json"));
  std::stringstream text;
  text << file.rdbuf();
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(text.str(), ec);
  if (ec || !json.is_object() || !json.as_object().contains("dsn")) {
    ADD_FAILURE() << "restore.json: " << text.str();
    return "";
  }
  return std::string(json.as_object().at("dsn").as_string());
}

TestCluster::~TestCluster() {
  if (std::filesystem::exists(dir_.Sub("restored/restore.json"))) {
    CommandResult restored = RunCommand(ClusterScript() + " down " + dir_.Sub("restored"));
    EXPECT_EQ(restored.exit_code, 0) << restored.out;
  }
  CommandResult down = RunCommand(ClusterScript() + " down " + dir_.Sub("c"));
  EXPECT_EQ(down.exit_code, 0) << down.out;
  // Nothing it started may outlive it.
  for (int pid : ProcessesUsing(dir_.path())) {
    ADD_FAILURE() << "process " << pid << " still runs after scripts/cluster down";
    ::kill(pid, SIGKILL);
  }
}

std::vector<int> ProcessesUsing(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<int> found;
  std::error_code ec;
  for (const fs::directory_entry& proc : fs::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(proc.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    std::ifstream stat_file(proc.path() / "stat");
    std::string stat;
    std::getline(stat_file, stat);
    const size_t paren = stat.rfind(')');
    const bool zombie =
        paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
    if (!zombie && args.find(dir + "/") != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

std::vector<ClusterMember> TestCluster::Status() {
  CommandResult status = RunCommand(ClusterScript() + " status " + dir_.Sub("c") + " >/dev/null");
  EXPECT_EQ(status.exit_code, 0) << status.out;
  std::ifstream file(dir_.Sub("c/cluster.json"));
  std::stringstream text;
  text << file.rdbuf();
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(text.str(), ec);
  std::vector<ClusterMember> members;
  if (ec || !json.is_object()) {
    ADD_FAILURE() << "cluster.json is not JSON: " << text.str();
    return members;
  }
  const boost::json::object& top = json.as_object();
  dsn_ = std::string(top.at("dsn").as_string());
  auto pid_of = [](const boost::json::value& v) {
    return v.is_int64() ? static_cast<int>(v.as_int64()) : 0;
  };
  for (const boost::json::value& m : top.at("postgres").as_array()) {
    const boost::json::object& o = m.as_object();
    members.push_back({std::string(o.at("name").as_string()),
                       static_cast<int>(o.at("port").as_int64()), pid_of(o.at("pid")),
                       pid_of(o.at("patroni_pid")), std::string(o.at("role").as_string())});
  }
  nodes_.clear();
  for (const boost::json::value& n : top.at("nodes").as_array()) {
    const boost::json::object& o = n.as_object();
    ClusterNodeInfo node{std::string(o.at("name").as_string()),
                         std::string(o.at("url").as_string()), 0, pid_of(o.at("pid")),
                         std::string(o.at("role").as_string())};
    node.port = std::stoi(node.url.substr(node.url.rfind(':') + 1));
    nodes_.push_back(std::move(node));
  }
  tokens_.clear();
  for (const auto& [role, token] : top.at("tokens").as_object())
    tokens_[std::string(role)] = std::string(token.as_string());
  return members;
}

TestWriterLog::TestWriterLog(std::string origin)
    : origin_(std::move(origin)),
      signer_(*MakeNoteSigner(origin_, Ed25519PrivateKey::Generate())) {}

std::unique_ptr<TestGroup> TestWriterLog::Next(uint64_t epoch, size_t count, size_t entry_bytes,
                                               bool sign) {
  std::mt19937_64 random(serial_ + 1);
  std::vector<Bytes> entries;
  for (size_t i = 0; i < count; ++i) {
    std::string head = "entry " + std::to_string(serial_++) + " of " + origin_ + "\n";
    Bytes bytes(head.begin(), head.end());
    while (bytes.size() < entry_bytes) {
      uint64_t r = random();
      for (int b = 0; b < 8 && bytes.size() < entry_bytes; ++b) {
        bytes.push_back(static_cast<uint8_t>(r >> (8 * b)));
      }
    }
    entries.push_back(std::move(bytes));
  }
  return NextWith(epoch, std::move(entries), sign);
}

std::unique_ptr<TestGroup> TestWriterLog::NextWith(uint64_t epoch, std::vector<Bytes> entries,
                                                   bool sign) {
  auto group = std::make_unique<TestGroup>();
  group->bytes = std::move(entries);
  std::vector<Hash> leaves;
  for (const Bytes& b : group->bytes) {
    group->entries.push_back({b, HashLeaf(b)});
    leaves.push_back(group->entries.back().leaf_hash);
  }
  group->request.epoch = epoch;
  group->request.first_index = size();
  group->request.prev_leaf_hash = last_leaf_hash_;
  group->request.entries = group->entries;
  if (sign) group->request.checkpoint_note = SignCheckpoint(leaves);
  return group;
}

std::string TestWriterLog::SignCheckpoint(const std::vector<Hash>& leaves) const {
  MerkleFrontier tree = tree_;
  for (const Hash& leaf : leaves) tree.Append(leaf);
  return SignNote(FormatCheckpoint({origin_, tree.size(), tree.Root(), {}}), signer_);
}

void TestWriterLog::Acknowledged(const TestGroup& group) {
  EXPECT_EQ(group.request.first_index, size());
  for (const GroupEntry& e : group.entries) {
    tree_.Append(e.leaf_hash);
    leaves_.push_back(e.leaf_hash);
    last_leaf_hash_ = e.leaf_hash;
  }
}

}  // namespace fundledger::testing
