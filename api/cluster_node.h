// ClusterNode: one ledger node of a cluster (`fundledger serve --cluster FILE`). Its local
// ledger (RocksDB) is a materialisation of the log of record in PostgreSQL; the node is the
// writer or a follower, and switches by itself:
//   - writer: holds the writer lease (PgLogStore's session lock and epoch); every commit group
//     goes to PostgreSQL first (WriterSwitch -> PgLogOfRecord). Between groups it keeps the
//     lease's session alive (PgLogStore::KeepLease, every 0.5 s); paused longer than
//     kPgWriterSessionIdleMs it loses the session and the lock. Fenced by a newer writer, it
//     steps down and follows, and from then on names the new writer in its 421s.
//   - follower: tails PostgreSQL with LogFollower (verify, store, replay), and every
//     kTakeoverCheckMs tries the writer lock, which is free once the writer's session ended
//     (the writer died): it then catches up to the lease's head and writes.
// ClusterHandler wraps the node's Service: writes to a follower are answered 421 Misdirected
// Request naming the writer's URL (never forwarded: a client re-sends with its own token and
// Idempotency-Key); `?min_size=N` on any read waits at most kMinSizeWaitMs for the node to hold
// N entries, else 503 with Retry-After; /healthz and /metrics add the role, applied size, the
// log of record's size, lag (entries and ms) and the last verified index.
//
// The cluster file (JSON, one per node):
//   {"dsn": "host=h1,h2,h3 port=p1,p2,p3 dbname=fundledger user=fundledger password=...",
//    "origin": "city.example/ledger", "node": "n1", "data": "/srv/n1",
//    "nodes": [{"name": "n1", "url": "http://10.0.0.1:8080"}, ...]}
// The log's signing key is deployed to DIR/signing.key of every node before it first starts
// (the writer that creates the log makes it); it never enters PostgreSQL.
//
// Threads: the role loop (following, taking over, stepping down) runs on the node's follow
// thread ("fl-follow"), niced by kFollowNiceIncrement (cluster/follow_priority.h): the node
// serves and writes before it applies. A node that leads its session (its own autogroup)
// lowers the group's nice value while it follows and raises it when it takes over, so the
// machine's other programs (a writer, PostgreSQL) come first too. A node that starts as a
// follower and may raise a thread's priority again opens its ledger below serving, and raises
// the ledger's threads when it takes over (a node that stepped down keeps them at the
// process's priority). The writer's keep-alive runs on the lease thread ("fl-lease") at the
// process's priority; the handler on the server's threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http_message.h"
#include "cluster/log_follower.h"
#include "cluster/writer_switch.h"
#include "ledger/ledger.h"

namespace fundledger {

inline constexpr int64_t kTakeoverCheckMs = 1'000;        // a follower tries the writer lock
inline constexpr int64_t kMinSizeWaitMs = 5'000;          // ?min_size=N waits at most this
inline constexpr int64_t kNodeStartWaitMs = 120'000;      // for the log of record's genesis
inline constexpr uint64_t kLaggingEntries = 1'000;        // a follower further behind is lagging
inline constexpr char kFollowThreadName[] = "fl-follow";  // as ps and /proc show the threads
inline constexpr char kLeaseThreadName[] = "fl-lease";

struct ClusterPeer {
  std::string name;
  std::string url;
};

struct ClusterConfig {
  std::string dsn;
  std::string origin;
  std::string node;
  std::string data;
  std::vector<ClusterPeer> nodes;
  static Result<ClusterConfig> ReadFile(const std::string& path);
  std::string UrlOf(const std::string& node) const;  // "" when not listed
};

struct NodeStatus {
  std::string role;  // "writer", "follower", "lagging_follower", "stopped"
  uint64_t applied = 0;
  uint64_t record_size = 0;
  uint64_t lag_entries = 0;
  int64_t lag_ms = 0;
  uint64_t last_verified = 0;  // entries verified and applied (the next index)
  std::string writer;          // its URL, when known
  std::string failure;         // why it stopped applying
};

class ClusterNode {
 public:
  // Connects, takes the writer lease if free, and opens (or creates) the local ledger with
  // `options` (their log_of_record is set here). The role loop starts with Start().
  static Result<std::unique_ptr<ClusterNode>> Open(ClusterConfig config, LedgerOptions options);
  ~ClusterNode();

  void Start();
  void Stop();
  Ledger& ledger() { return *ledger_; }
  NodeStatus status() const;
  bool writing() const { return switch_.leading(); }
  // Waits at most timeout_ms until the node's ledger holds `size` entries, applied: readable.
  bool WaitForSize(uint64_t size, int64_t timeout_ms);

 private:
  explicit ClusterNode(ClusterConfig config) : config_(std::move(config)) {}
  // Entries the domain has applied (what reads see); the log may already hold more.
  uint64_t AppliedSize() const;
  Status Connect();
  Status OpenLedger(LedgerOptions options);
  // LogFollower::OpenReplica, on a thread below serving when ledger_below_serving_.
  Result<std::unique_ptr<Ledger>> OpenReplica(const LedgerOptions& options);
  // While following, the node's own autogroup below serving (when it leads its session).
  void FollowBelowServing();
  // On taking over: the autogroup, and the ledger's threads opened below serving, go back to
  // the priority the node serves at.
  void RaiseToServing();
  // Tries the writer lock at once; if had, catches up to the lease's head and leads.
  Status TryLead();
  void Run();
  // While the node writes: PgLogStore::KeepLease every kStepWaitMs, on the lease thread.
  void KeepLease();
  void FollowOnce(LogFollower& follower);
  // The log of record's head as read: its size, its writer, and since when this node is behind.
  void Published(const LogHead& head);
  void Fail(const Status& why);

  const ClusterConfig config_;
  int serving_nice_ = 0;                      // the process's priority, as the node opened
  bool ledger_below_serving_ = false;         // the ledger's threads were started below it
  std::optional<int> serving_autogroup_;      // the node's own autogroup's nice, as it opened
  bool autogroup_below_ = false;              // lowered while the node follows
  std::unique_ptr<PgLogStore> follow_store_;  // read-only: tails the log
  std::unique_ptr<PgLogStore> writer_store_;  // for the writer lease
  WriterSwitch switch_;
  std::unique_ptr<Ledger> ledger_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // on mu_: the ledger grew, or stopping
  bool stopping_ = false;
  uint64_t record_size_ = 0;
  int64_t behind_since_ms_ = 0;  // steady ms when the node first fell behind; 0: caught up
  std::string writer_;
  std::string failure_;
  std::atomic<bool> step_down_{false};
  std::thread thread_;        // Run: the follow thread
  std::thread lease_thread_;  // KeepLease
};

// The node's Service as a cluster node serves it (see the top of this file).
class ClusterHandler final : public HttpHandler {
 public:
  ClusterHandler(HttpHandler& service, ClusterNode& node) : service_(service), node_(node) {}
  bool Authorized(const HttpRequest& head) override { return service_.Authorized(head); }
  HttpResponse Handle(const HttpRequest& request) override;
  std::optional<uint64_t> served_log_size() const override { return service_.served_log_size(); }

 private:
  HttpResponse Health(const HttpRequest& request);
  HttpResponse Metrics(const HttpRequest& request);

  HttpHandler& service_;
  ClusterNode& node_;
};

}  // namespace fundledger
