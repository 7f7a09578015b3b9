// The whole cluster from scripts/cluster (3 etcd, 3 PostgreSQL under Patroni, 3 ledger nodes,
// the log created with a city of kRollLines people): clients post funds with Idempotency-Keys,
// retrying on whichever node writes, while a maker uploads a roll of kRollLines lines and the
// PostgreSQL primary is killed (-9) during the roll's commit group, then the writer node is.
// Afterwards every acknowledged post is there exactly once, every retry of an acknowledged key
// answers `replayed`, the roll's retry with its key answers the roll, which is there whole and
// once, and every live node reaches the same size and signed checkpoint. Before the kills, the
// restore drill: a base backup, more posts, a checkpoint kept, a point-in-time restore into a fresh
// PostgreSQL, and a ledger node started empty on it verifies the restored log and proves it
// consistent with the kept checkpoint.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/city_builder.h"
#include "crypto/checkpoint.h"
#include "crypto/note.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
constexpr int kClients = 4;
constexpr size_t kAcksPerPhase = 12;
constexpr auto kPhaseWait = std::chrono::seconds(120);
constexpr auto kPostWait = std::chrono::seconds(150);
constexpr size_t kRollLines = 100'000;
// A COPY this far along is the roll's group (~5 MB in 50 chunk entries); a post's is < 10 kB.
constexpr int64_t kRollGroupBytesMin = int64_t{1} << 20;
const std::string kRollId = "ROLL-FAILOVER";
const std::string kRollKey = "roll-failover";

class Cluster {
 public:
  explicit Cluster(TestCluster& cluster) : cluster_(cluster) {}

  std::optional<json::object> Health(int port) {
    HttpResult r =
        HttpClient(port, {.source_address = "", .timeout = std::chrono::milliseconds(2'000)})
            .Request("GET", "/healthz");
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (r.status == 0 || ec || !v.is_object()) return std::nullopt;
    return v.as_object();
  }
  // The port of the node that says it writes, or 0.
  int Writer() {
    for (const ClusterNodeInfo& n : cluster_.nodes()) {
      std::optional<json::object> h = Health(n.port);
      const json::value* role = h ? h->if_contains("role") : nullptr;
      if (role != nullptr && role->is_string() && role->as_string() == "writer") return n.port;
    }
    return 0;
  }

 private:
  TestCluster& cluster_;
};

std::string FundBody(const std::string& id) {
  return R"({"fund_id":")" + id +
         R"(","name":"F","kind":"subsidy","organisation":"bureau","currency":"CNY"})";
}

// Posts distinct funds until stopped, each retried with its key until acknowledged.
class Clients {
 public:
  Clients(Cluster& cluster, std::string token) : cluster_(cluster), token_(std::move(token)) {
    for (int c = 0; c < kClients; ++c) threads_.emplace_back([this, c] { Run(c); });
  }
  ~Clients() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }
  size_t AcksAfter(Clock::time_point since) {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(
        std::count_if(acks_.begin(), acks_.end(), [&](const auto& a) { return a.second > since; }));
  }
  bool WaitForAcks(size_t count, Clock::time_point since) {
    const auto deadline = Clock::now() + kPhaseWait;
    while (AcksAfter(since) < count) {
      if (Clock::now() > deadline || !failure_.empty()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }
  std::vector<std::string> Acknowledged() {
    std::lock_guard lock(mu_);
    std::vector<std::string> ids;
    for (const auto& a : acks_) ids.push_back(a.first);
    return ids;
  }
  std::string failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }
  // One post with its key, on the writer, until acknowledged (201, or 200 replayed).
  HttpResult PostUntilAcknowledged(const std::string& id) {
    const auto deadline = Clock::now() + kPostWait;
    HttpResult r;
    while (Clock::now() < deadline) {
      const int writer = cluster_.Writer();
      if (writer != 0) {
        r = HttpClient(writer, {.source_address = "", .timeout = std::chrono::milliseconds(90'000)})
                .Request("POST", "/v1/funds", token_, FundBody(id), "open-" + id);
        if (r.status == 201 || r.status == 200 || r.status == 409 || r.status == 422) return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return r;
  }

 private:
  void Run(int client) {
    for (int i = 0; !stop_; ++i) {
      const std::string id = "F-" + std::to_string(client) + "-" + std::to_string(i);
      HttpResult r = PostUntilAcknowledged(id);
      std::lock_guard lock(mu_);
      if (r.status == 201 || r.status == 200) {
        acks_.emplace_back(id, Clock::now());
      } else if (!stop_) {
        failure_ = id + ": " + std::to_string(r.status) + " " + r.body;
        return;
      }
    }
  }

  Cluster& cluster_;
  std::string token_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::pair<std::string, Clock::time_point>> acks_;
  std::string failure_;
  std::vector<std::thread> threads_;
};

// The roll of every person of the city (B0..), one upload of kRollLines CSV lines.
std::string RollCsv() {
  std::string csv = "beneficiary_id,program_id,amount\n";
  for (size_t i = 0; i < kRollLines; ++i) csv += "B" + std::to_string(i) + ",dibao,1045\n";
  return csv;
}

// One upload of the roll with its key, retried on whichever node writes until answered.
HttpResult UploadRoll(Cluster& cluster, const std::string& token, const std::string& csv) {
  const auto deadline = Clock::now() + kPostWait;
  HttpResult r;
  while (Clock::now() < deadline) {
    const int writer = cluster.Writer();
    if (writer != 0) {
      r = HttpClient(writer, {.source_address = "", .timeout = kPostWait})
              .Request("POST",
                       "/v1/disbursement-batches?fund_id=F&period=2025-03&batch_id=" + kRollId,
                       token, csv, kRollKey, "text/csv");
      if (r.status == 201 || r.status == 200 || r.status == 409 || r.status == 422) return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return r;
}

// Waits (bounded) until the primary is copying a group of at least kRollGroupBytesMin: only
// the roll's is that large. False when the upload was answered first.
bool WaitForRollGroup(const std::string& dsn, const std::atomic<bool>& answered) {
  auto conn = PgConnection::Connect(dsn, {{"application_name", "test-watch"}}, {});
  if (!conn.ok()) return false;
  for (const auto deadline = Clock::now() + kPostWait; Clock::now() < deadline && !answered;) {
    Result<PgResult> r =
        (*conn)->Exec("SELECT count(*) FROM pg_stat_progress_copy WHERE bytes_processed >= $1",
                      PgParams().Int64(kRollGroupBytesMin), DeadlineAfterMs(5'000));
    if (!r.ok()) return false;
    if (r->Int64(0, 0) > 0) return true;
  }
  return false;
}

Checkpoint ParsedCheckpoint(const std::string& note_text) {
  Result<Note> note = ParseNote(note_text);
  EXPECT_TRUE(note.ok()) << note_text;
  Result<Checkpoint> cp = note.ok() ? ParseCheckpoint(note->text) : note.status();
  EXPECT_TRUE(cp.ok()) << note_text;
  return cp.ok() ? *cp : Checkpoint{};
}

// The drill (see the top of this file), while the clients keep posting.
void RestoreDrill(TestCluster& cluster, Clients& clients, int writer_port,
                  const std::string& token) {
  ASSERT_TRUE(cluster.Backup());
  ASSERT_TRUE(clients.WaitForAcks(kAcksPerPhase, Clock::now())) << clients.failure();
  HttpResult kept = HttpClient(writer_port).Request("GET", "/v1/checkpoint", token);
  ASSERT_EQ(kept.status, 200) << kept.body;
  const Checkpoint kept_cp = ParsedCheckpoint(kept.body);
  const std::string dsn = cluster.Restore();
  ASSERT_NE(dsn, "");

  // A node deployed as any other (signing key, tokens), on an empty data dir.
  const std::string data = cluster.RestoredDir() + "/node";
  std::filesystem::create_directories(data);
  std::filesystem::permissions(data, std::filesystem::perms::owner_all);
  for (const char* file : {"signing.key", "tokens"})
    std::filesystem::copy_file(cluster.Path(std::string("nodes/n0/data/") + file),
                               data + "/" + file);
  const std::string config = cluster.RestoredDir() + "/node.json";
  std::ofstream(config) << json::serialize(
      json::object{{"dsn", dsn}, {"origin", kept_cp.origin}, {"node", "r0"}, {"data", data}});
  ServerProcessOptions o;
  o.command = "serve --cluster " + config + " --quiet";
  ServerProcess node(data, o);
  ASSERT_GT(node.port(), 0);
  HttpResult restored =
      HttpClient(node.port(), {.source_address = "", .timeout = kPostWait})
          .Request("GET", "/v1/checkpoint?min_size=" + std::to_string(kept_cp.size), token);
  for (auto deadline = Clock::now() + kPhaseWait;
       restored.status != 200 && Clock::now() < deadline;) {  // 503 while it catches up
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    restored =
        HttpClient(node.port())
            .Request("GET", "/v1/checkpoint?min_size=" + std::to_string(kept_cp.size), token);
  }
  ASSERT_EQ(restored.status, 200) << restored.body;
  const Checkpoint restored_cp = ParsedCheckpoint(restored.body);
  ASSERT_GE(restored_cp.size, kept_cp.size);
  HttpResult proof = HttpClient(node.port())
                         .Request("GET",
                                  "/v1/proofs/consistency?old=" + std::to_string(kept_cp.size) +
                                      "&size=" + std::to_string(restored_cp.size),
                                  token);
  ASSERT_EQ(proof.status, 200) << proof.body;
  std::vector<Hash> path;
  const json::value answer = json::parse(proof.body);
  const json::array* hashes = answer.is_object() && answer.as_object().contains("proof")
                                  ? answer.as_object().at("proof").if_array()
                                  : nullptr;
  ASSERT_NE(hashes, nullptr) << proof.body;
  for (const json::value& h : *hashes) {
    Result<Hash> hash = h.is_string() ? HashFromHex(h.as_string()) : InvalidArgument("not hex");
    ASSERT_TRUE(hash.ok()) << proof.body;
    path.push_back(*hash);
  }
  Status consistent =
      VerifyConsistency(kept_cp.size, restored_cp.size, kept_cp.root, restored_cp.root, path);
  EXPECT_TRUE(consistent.ok()) << consistent.ToString();
}

TEST(ClusterFailover, NothingAcknowledgedIsLostWhenThePrimaryAndThenTheWriterDie) {
  std::string missing = MissingForCluster(/*patroni=*/true);
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestCluster cluster(/*with_nodes=*/false);
  ASSERT_TRUE(cluster.ok());
  const auto city_start = Clock::now();
  ASSERT_TRUE(cluster.CreateRollCity(kRollLines));
  std::printf("city of %zu people: %.1f s\n", kRollLines,
              std::chrono::duration<double>(Clock::now() - city_start).count());
  ASSERT_TRUE(cluster.Up(/*with_nodes=*/true));
  std::vector<ClusterMember> members = cluster.Status();
  ASSERT_EQ(cluster.nodes().size(), 3u);
  ASSERT_EQ(cluster.tokens().count("admin"), 1u);
  const std::string admin = cluster.tokens().at("admin");
  Cluster nodes(cluster);
  Clients clients(nodes, admin);
  ASSERT_TRUE(clients.WaitForAcks(kAcksPerPhase, Clock::time_point())) << clients.failure();
  const auto drill_start = Clock::now();
  ASSERT_NO_FATAL_FAILURE(RestoreDrill(cluster, clients, nodes.Writer(), admin));
  std::printf("restore drill: %.1f s\n",
              std::chrono::duration<double>(Clock::now() - drill_start).count());

  // Kill -9 the PostgreSQL primary (its Patroni first, so it cannot restart it) while the
  // roll's group is on its way in.
  members = cluster.Status();
  auto primary = std::find_if(members.begin(), members.end(),
                              [](const ClusterMember& m) { return m.role == "primary"; });
  ASSERT_NE(primary, members.end());
  const std::string maker = cluster.tokens().at("maker");
  const std::string csv = RollCsv();
  std::atomic<bool> roll_answered{false};
  HttpResult roll;
  std::thread upload([&] {
    roll = UploadRoll(nodes, maker, csv);
    roll_answered = true;
  });
  const bool in_group = WaitForRollGroup(cluster.dsn(), roll_answered);
  ::kill(primary->patroni_pid, SIGKILL);
  ::kill(primary->pid, SIGKILL);
  const auto pg_killed = Clock::now();
  upload.join();
  std::printf("primary killed %s; the roll's first answer: %d %.200s\n",
              in_group ? "during the roll's group" : "after the roll was answered", roll.status,
              roll.body.c_str());
  ASSERT_TRUE(clients.WaitForAcks(kAcksPerPhase, pg_killed)) << clients.failure();
  // The first answer may be the failure; a retry with the key answers the roll or makes it.
  ASSERT_NE(roll.status, 0);
  HttpResult retried = UploadRoll(nodes, maker, csv);
  ASSERT_TRUE(retried.status == 200 || retried.status == 201) << retried.body;
  if (roll.status == 201) {
    EXPECT_EQ(retried.status, 200) << retried.body;
    EXPECT_NE(retried.body.find("\"replayed\":true"), std::string::npos) << retried.body;
  }
  EXPECT_NE(retried.body.find("\"lines\":" + std::to_string(kRollLines)), std::string::npos)
      << retried.body;

  // Kill -9 the writer node.
  cluster.Status();
  auto writer = std::find_if(cluster.nodes().begin(), cluster.nodes().end(),
                             [](const ClusterNodeInfo& n) { return n.role == "writer"; });
  ASSERT_NE(writer, cluster.nodes().end());
  const int dead_port = writer->port;
  ASSERT_EQ(::kill(writer->pid, SIGKILL), 0);
  const auto node_killed = Clock::now();
  ASSERT_TRUE(clients.WaitForAcks(kAcksPerPhase, node_killed)) << clients.failure();
  clients.Stop();
  ASSERT_EQ(clients.failure(), "");

  // Every acknowledged key answers replayed, and its fund is there exactly once.
  const std::vector<std::string> acked = clients.Acknowledged();
  std::set<std::string> distinct(acked.begin(), acked.end());
  EXPECT_EQ(distinct.size(), acked.size());
  uint64_t size = 0;
  for (const std::string& id : acked) {
    HttpResult r = clients.PostUntilAcknowledged(id);
    ASSERT_EQ(r.status, 200) << id << ": " << r.body;
    EXPECT_NE(r.body.find("\"replayed\":true"), std::string::npos) << id << ": " << r.body;
    ASSERT_EQ(r.headers.count("fundledger-log-size"), 1u);
    size = std::max<uint64_t>(size, std::stoull(r.headers.at("fundledger-log-size")));
  }
  const int writer_port = nodes.Writer();
  ASSERT_NE(writer_port, 0);
  HttpResult funds = HttpClient(writer_port).Request("GET", "/v1/funds", admin);
  ASSERT_EQ(funds.status, 200) << funds.body;
  std::multiset<std::string> listed;
  const json::value listing = json::parse(funds.body);
  ASSERT_TRUE(listing.is_object() && listing.as_object().contains("funds")) << funds.body;
  for (const json::value& f : listing.as_object().at("funds").as_array()) {
    const json::value* id = f.as_object().if_contains("fund_id");
    ASSERT_NE(id, nullptr) << json::serialize(f);
    listed.insert(std::string(id->as_string()));
  }
  for (const std::string& id : acked) EXPECT_EQ(listed.count(id), 1u) << id;

  // The roll is there once and whole.
  HttpResult batch =
      HttpClient(writer_port).Request("GET", "/v1/disbursement-batches/" + kRollId, admin);
  ASSERT_EQ(batch.status, 200) << batch.body;
  const json::value b = json::parse(batch.body);
  EXPECT_EQ(json::value_to<uint64_t>(b.at("line_count")), kRollLines) << batch.body;
  EXPECT_EQ(json::value_to<int64_t>(b.at("total_fen")),
            static_cast<int64_t>(kRollLines) * kRollCityMonthlyFen)
      << batch.body;
  // Its people all in a batch now, the roll's retry on the new writer is still a retry.
  HttpResult after_takeover = UploadRoll(nodes, maker, csv);
  EXPECT_EQ(after_takeover.status, 200) << after_takeover.body;
  EXPECT_NE(after_takeover.body.find("\"replayed\":true"), std::string::npos)
      << after_takeover.body;

  // The live nodes reach the same size and checkpoint.
  std::string checkpoint;
  for (const ClusterNodeInfo& n : cluster.nodes()) {
    if (n.port == dead_port) continue;
    HttpResult cp =
        HttpClient(n.port).Request("GET", "/v1/checkpoint?min_size=" + std::to_string(size), admin);
    ASSERT_EQ(cp.status, 200) << n.name << ": " << cp.body;
    if (checkpoint.empty()) checkpoint = cp.body;
    EXPECT_EQ(cp.body, checkpoint) << n.name;
  }
}

}  // namespace
}  // namespace fundledger::testing
