#include "api/cluster_node.h"

#include <fmt/core.h>
#include <pthread.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cluster/follow_priority.h"
#include "ledger/log_format.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr int64_t kStepWaitMs = 500;              // a follower's wait for entries per step
constexpr int64_t kLeaseCatchUpMs = 120'000;      // a new writer reaching the lease's head
constexpr int64_t kStartRetryMs = 500;            // between tries for the log's genesis
constexpr int64_t kWriterStoreConnectMs = 2'000;  // a follower's writable connection
constexpr int64_t kLaggingMs = 5'000;             // a follower behind longer is lagging

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::string> Field(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string() || v->as_string().empty())
    return InvalidArgument(std::string("the cluster file needs \"") + name + "\"").WithField(name);
  return std::string(v->as_string());
}

void Say(const std::string& line) { fmt::print(stderr, "fundledger: {}\n", line); }

}  // namespace

Result<ClusterConfig> ClusterConfig::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the cluster file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return InvalidArgument(path + " is not a JSON object");
  const json::object& o = v.as_object();
  ClusterConfig c;
  FL_ASSIGN_OR_RETURN(c.dsn, Field(o, "dsn"));
  FL_ASSIGN_OR_RETURN(c.origin, Field(o, "origin"));
  FL_ASSIGN_OR_RETURN(c.node, Field(o, "node"));
  FL_ASSIGN_OR_RETURN(c.data, Field(o, "data"));
  if (const json::value* nodes = o.if_contains("nodes"); nodes != nullptr && nodes->is_array()) {
    for (const json::value& n : nodes->as_array()) {
      if (!n.is_object()) return InvalidArgument("\"nodes\" holds objects").WithField("nodes");
      ClusterPeer peer;
      FL_ASSIGN_OR_RETURN(peer.name, Field(n.as_object(), "name"));
      FL_ASSIGN_OR_RETURN(peer.url, Field(n.as_object(), "url"));
      c.nodes.push_back(std::move(peer));
    }
  }
  return c;
}

std::string ClusterConfig::UrlOf(const std::string& name) const {
  for (const ClusterPeer& p : nodes)
    if (p.name == name) return p.url;
  return "";
}

Result<std::unique_ptr<ClusterNode>> ClusterNode::Open(ClusterConfig config,
                                                       LedgerOptions options) {
  std::unique_ptr<ClusterNode> node(new ClusterNode(std::move(config)));
  node->serving_nice_ = ThisThreadNice();
  // A group it may lower and raise again without privilege (cluster/follow_priority.h).
  if (std::optional<int> group = OwnAutogroupNice(); group && *group >= 0)
    node->serving_autogroup_ = group;
  FL_RETURN_IF_ERROR(node->Connect());
  options.log.log_of_record = &node->switch_;
  FL_RETURN_IF_ERROR(node->OpenLedger(std::move(options)));
  return node;
}

ClusterNode::~ClusterNode() { Stop(); }

Status ClusterNode::Connect() {
  // The writable store first: it creates the schema and the log's head.
  FL_ASSIGN_OR_RETURN(writer_store_,
                      PgLogStore::Connect({.dsn = config_.dsn, .origin = config_.origin}));
  FL_ASSIGN_OR_RETURN(
      follow_store_,
      PgLogStore::Connect({.dsn = config_.dsn, .origin = config_.origin, .read_only = true}));
  return Status::Ok();
}

Status ClusterNode::OpenLedger(LedgerOptions options) {
  Result<WriterLease> lease = writer_store_->TryAcquireWriter(config_.node);
  if (!lease.ok() && lease.status().rule() != kWriterLockHeld) return lease.status();
  const bool exists = std::filesystem::exists(StorePath(config_.data));
  if (lease.ok() && !exists && lease->head.next_index == 0) {
    // The first writer of an empty log creates it: its genesis is the log of record's entry 0.
    switch_.Lead(std::make_unique<PgLogOfRecord>(std::move(writer_store_), lease->epoch,
                                                 [this](const Status&) { step_down_ = true; }));
    FL_ASSIGN_OR_RETURN(ledger_, Ledger::Create(config_.data, config_.origin, options));
    Say("node " + config_.node + " created the log " + config_.origin + " and writes it");
    return Status::Ok();
  }
  const int64_t deadline = SteadyMs() + kNodeStartWaitMs;
  // A node that follows opens its ledger below serving when it may raise it again on taking over
  // (cluster/follow_priority.h): the threads the ledger starts inherit the priority.
  ledger_below_serving_ = !lease.ok() && CanRaisePriority();
  if (!lease.ok()) FollowBelowServing();
  for (;;) {
    Result<std::unique_ptr<Ledger>> opened = OpenReplica(options);
    if (opened.ok()) {
      ledger_ = std::move(*opened);
      break;
    }
    if (opened.status().code() != StatusCode::kNotFound || SteadyMs() > deadline)
      return opened.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(kStartRetryMs));  // no genesis yet
  }
  if (!lease.ok()) {
    switch_.Follow("");
    return Status::Ok();
  }
  FL_RETURN_IF_ERROR(
      LogFollower(*follow_store_).CatchUp(*ledger_, lease->head.next_index, kLeaseCatchUpMs));
  switch_.Lead(std::make_unique<PgLogOfRecord>(std::move(writer_store_), lease->epoch,
                                               [this](const Status&) { step_down_ = true; }));
  Say("node " + config_.node + " writes the log from index " +
      std::to_string(ledger_->log().size()));
  return Status::Ok();
}

Result<std::unique_ptr<Ledger>> ClusterNode::OpenReplica(const LedgerOptions& options) {
  if (!ledger_below_serving_)
    return LogFollower::OpenReplica(*follow_store_, config_.data, options);
  std::optional<Result<std::unique_ptr<Ledger>>> opened;
  std::thread opener([&] {
    if (Result<int> nice = LowerThisThreadPriority(kFollowNiceIncrement); !nice.ok()) {
      opened.emplace(nice.status());
      return;
    }
    opened.emplace(LogFollower::OpenReplica(*follow_store_, config_.data, options));
  });
  opener.join();
  return std::move(*opened);
}

void ClusterNode::FollowBelowServing() {
  if (!serving_autogroup_ || autogroup_below_) return;
  const int below = std::min(*serving_autogroup_ + kFollowNiceIncrement, kNiceLowest);
  if (Status s = SetOwnAutogroupNice(below); !s.ok()) {
    Say(s.message() + "; the node follows in a group at the priority it serves at");
    return;
  }
  autogroup_below_ = true;
}

void ClusterNode::RaiseToServing() {
  if (autogroup_below_) {
    autogroup_below_ = false;
    if (Status s = SetOwnAutogroupNice(*serving_autogroup_); !s.ok())
      Say(s.message() + "; the node writes in a group below serving");
  }
  if (!ledger_below_serving_) return;
  ledger_below_serving_ = false;
  const int follow = std::min(serving_nice_ + kFollowNiceIncrement, kNiceLowest);
  if (Result<int> raised = RaiseThreadsTo(follow, serving_nice_); !raised.ok())
    Say(raised.status().message() + "; some of the node's threads write below serving");
  (void)LowerThisThreadPriority(kFollowNiceIncrement);  // the follow thread was raised too
}

void ClusterNode::Start() {
  thread_ = std::thread([this] { Run(); });
  lease_thread_ = std::thread([this] { KeepLease(); });
}

void ClusterNode::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lease_thread_.joinable()) lease_thread_.join();
}

Status ClusterNode::TryLead() {
  if (writer_store_ == nullptr) {
    FL_ASSIGN_OR_RETURN(writer_store_,
                        PgLogStore::Connect({.dsn = config_.dsn,
                                             .origin = config_.origin,
                                             .reconnect_wait_ms = kWriterStoreConnectMs}));
  }
  Result<WriterLease> lease = writer_store_->TryAcquireWriter(config_.node);
  if (!lease.ok()) return lease.status();
  Status caught =
      LogFollower(*follow_store_).CatchUp(*ledger_, lease->head.next_index, kLeaseCatchUpMs);
  if (!caught.ok()) {
    writer_store_.reset();  // ends the session: the lock is free for another node
    return caught;
  }
  step_down_ = false;
  RaiseToServing();  // before the first group: the node writes at the priority it serves at
  switch_.Lead(std::make_unique<PgLogOfRecord>(std::move(writer_store_), lease->epoch,
                                               [this](const Status&) { step_down_ = true; }));
  {
    std::lock_guard lock(mu_);
    record_size_ = ledger_->log().size();
    behind_since_ms_ = 0;
    writer_ = config_.UrlOf(config_.node);
  }
  Say("node " + config_.node + " took over as the writer at index " +
      std::to_string(ledger_->log().size()));
  return Status::Ok();
}

void ClusterNode::Run() {
  pthread_setname_np(pthread_self(), kFollowThreadName);
  // Following, verifying and replaying run below serving and writing (cluster/follow_priority.h).
  if (Result<int> nice = LowerThisThreadPriority(kFollowNiceIncrement); !nice.ok())
    Say(nice.status().message() + "; the node follows at the priority it serves at");
  LogFollower follower(*follow_store_);
  // The head as each step first reads it: the lag is known while a large step applies.
  follower.set_head_observer([this](const LogHead& head) { Published(head); });
  int64_t next_try_ms = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (switch_.leading()) {
      if (step_down_) {
        Result<LogHead> head = follow_store_->Head();
        std::string writer = head.ok() ? config_.UrlOf(head->writer_node) : "";
        {
          // Before the switch follows: a 421 (sent from then on) names the new writer, never
          // this node. The lease thread no longer names this node once step_down_ is set.
          std::lock_guard lock(mu_);
          writer_ = writer;
        }
        switch_.Follow(writer);
        Say("node " + config_.node + " stepped down: another node writes the log (" +
            (writer.empty() ? "unknown" : writer) + ")");
        FollowBelowServing();
        next_try_ms = SteadyMs() + kTakeoverCheckMs;
        continue;
      }
      std::unique_lock lock(mu_);  // the lease thread keeps the lease meanwhile
      changed_.wait_for(lock, std::chrono::milliseconds(kStepWaitMs), [&] { return stopping_; });
      continue;
    }
    bool failed = false;
    {
      std::lock_guard lock(mu_);
      failed = !failure_.empty();
    }
    if (failed) {  // stopped applying: serves what it verified, says why
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, std::chrono::milliseconds(kTakeoverCheckMs),
                        [&] { return stopping_; });
      continue;
    }
    FollowOnce(follower);
    if (SteadyMs() >= next_try_ms) {
      Status led = TryLead();
      if (!led.ok() && led.rule() != kWriterLockHeld) Say("cannot take over: " + led.message());
      next_try_ms = SteadyMs() + kTakeoverCheckMs;
    }
  }
}

void ClusterNode::KeepLease() {
  pthread_setname_np(pthread_self(), kLeaseThreadName);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (switch_.leading() && !step_down_) {
      lock.unlock();
      // Between groups: proves the lease and keeps the session that holds it alive (a writer
      // that stops calling, being paused, loses it to the server's idle_session_timeout). Not
      // on the niced follow thread: it holds the writer's switch while PostgreSQL answers.
      (void)switch_.KeepLease();  // fenced: step_down_ is set, and Run steps down
      const uint64_t size = ledger_->log().size();
      lock.lock();
      if (switch_.leading() && !step_down_) {  // a node stepping down names the new writer
        record_size_ = size;
        writer_ = config_.UrlOf(config_.node);
      }
    }
    changed_.wait_for(lock, std::chrono::milliseconds(kStepWaitMs), [&] { return stopping_; });
  }
}

void ClusterNode::FollowOnce(LogFollower& follower) {
  Result<LogHead> head = follower.Step(*ledger_, kStepWaitMs);
  if (!head.ok()) {
    if (head.status().code() == StatusCode::kCorruption) {
      Fail(head.status());
    } else {
      Say("following: " + head.status().message());
      std::this_thread::sleep_for(std::chrono::milliseconds(kStartRetryMs));
    }
    return;
  }
  Published(*head);
}

void ClusterNode::Published(const LogHead& head) {
  {
    std::lock_guard lock(mu_);
    record_size_ = head.next_index;
    writer_ = config_.UrlOf(head.writer_node);
    const uint64_t applied = ledger_->log().size();
    if (applied >= record_size_) {
      behind_since_ms_ = 0;
    } else if (behind_since_ms_ == 0) {
      behind_since_ms_ = SteadyMs();
    }
  }
  changed_.notify_all();
}

void ClusterNode::Fail(const Status& why) {
  Say("node " + config_.node + " stops applying the log: " + why.message());
  {
    std::lock_guard lock(mu_);
    failure_ = why.message();
  }
  changed_.notify_all();
}

uint64_t ClusterNode::AppliedSize() const {
  return ledger_->domain().Read([](const DomainState& d) { return d.next_index; });
}

bool ClusterNode::WaitForSize(uint64_t size, int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lock(mu_);
  // A writer's log grows by its own commits, which do not signal: short waits. The domain's
  // size, not the log's: a follower stores a group before it applies it, and a read let in
  // between would not see the entries it waited for.
  while (AppliedSize() < size) {
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) return false;
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

NodeStatus ClusterNode::status() const {
  NodeStatus s;
  s.applied = AppliedSize();
  s.last_verified = s.applied;
  const bool leading = switch_.leading();
  std::lock_guard lock(mu_);
  s.record_size = std::max(record_size_, s.applied);
  s.lag_entries = s.record_size - s.applied;
  // A node that has applied the record's size is not behind, even before its step returns and
  // resets behind_since_ms_.
  s.lag_ms = s.lag_entries == 0 || behind_since_ms_ == 0 ? 0 : SteadyMs() - behind_since_ms_;
  s.writer = writer_;
  s.failure = failure_;
  if (!failure_.empty()) {
    s.role = "stopped";
  } else if (leading) {
    s.role = "writer";
  } else if (s.lag_entries > kLaggingEntries || s.lag_ms > kLaggingMs) {
    s.role = "lagging_follower";
  } else {
    s.role = "follower";
  }
  return s;
}

namespace {

// The value of query parameter `name` in `target`, and the target without it.
std::optional<std::string> TakeQueryParam(std::string& target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string kept;
  std::optional<std::string> value;
  std::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
      value = std::string(pair.substr(name.size() + 1));
    } else {
      kept += (kept.empty() ? "" : "&") + std::string(pair);
    }
  }
  target = target.substr(0, q) + (kept.empty() ? "" : "?" + kept);
  return value;
}

bool IsRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

}  // namespace

HttpResponse ClusterHandler::Handle(const HttpRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (path == "/healthz") return Health(request);
  if (path == "/metrics") return Metrics(request);
  HttpRequest forwarded = request;
  std::optional<std::string> min_size = TakeQueryParam(forwarded.target, "min_size");
  if (!IsRead(request.method) && !node_.writing()) {
    NodeStatus s = node_.status();
    Status refused =
        Status(StatusCode::kOverloaded,
               "this node follows the log; send writes to the writer" +
                   (s.writer.empty() ? std::string(" (not known yet)") : " at " + s.writer));
    refused.WithRule("not_writer");
    HttpResponse r = ErrorResponse(refused);
    r.status = 421;  // Misdirected Request: the same request, sent to the writer, is right
    json::value body = json::parse(r.body);
    body.as_object()["writer"] = s.writer;
    r.body = json::serialize(body);
    r.log_size = s.applied;
    return r;
  }
  if (min_size) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(min_size->data(), min_size->data() + min_size->size(), n);
    if (ec != std::errc() || end != min_size->data() + min_size->size())
      return ErrorResponse(
          InvalidArgument("min_size is a number of entries").WithField("min_size"));
    if (!node_.WaitForSize(n, kMinSizeWaitMs)) {
      HttpResponse r = ErrorResponse(
          Overloaded("this node holds " + std::to_string(node_.ledger().log().size()) +
                     " entries, not yet " + std::to_string(n) + "; retry, or ask another node"));
      r.retry_after = "1";
      r.log_size = node_.ledger().log().size();
      return r;
    }
  }
  return service_.Handle(forwarded);
}

HttpResponse ClusterHandler::Health(const HttpRequest& request) {
  HttpResponse r = service_.Handle(request);
  NodeStatus s = node_.status();
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (ec || !body.is_object()) return r;
  json::object& o = body.as_object();
  o["role"] = s.role;
  o["applied_size"] = s.applied;
  o["record_size"] = s.record_size;
  o["lag_entries"] = s.lag_entries;
  o["lag_ms"] = s.lag_ms;
  o["last_verified_size"] = s.last_verified;
  o["writer"] = s.writer;
  if (!s.failure.empty()) {
    o["status"] = "stopped";
    o["failure"] = s.failure;
    r.status = 503;
  }
  r.body = json::serialize(body);
  return r;
}

HttpResponse ClusterHandler::Metrics(const HttpRequest& request) {
  HttpResponse r = service_.Handle(request);
  NodeStatus s = node_.status();
  r.body += fmt::format(
      "# HELP fundledger_cluster_writer 1 on the node that writes the log.\n"
      "# TYPE fundledger_cluster_writer gauge\nfundledger_cluster_writer {}\n"
      "# HELP fundledger_cluster_applied_size Entries this node verified and applied.\n"
      "# TYPE fundledger_cluster_applied_size gauge\nfundledger_cluster_applied_size {}\n"
      "# HELP fundledger_cluster_record_size Entries in the log of record, as last read.\n"
      "# TYPE fundledger_cluster_record_size gauge\nfundledger_cluster_record_size {}\n"
      "# HELP fundledger_cluster_lag_entries Entries behind the log of record.\n"
      "# TYPE fundledger_cluster_lag_entries gauge\nfundledger_cluster_lag_entries {}\n"
      "# HELP fundledger_cluster_lag_ms Milliseconds since this node fell behind (0: caught "
      "up).\n# TYPE fundledger_cluster_lag_ms gauge\nfundledger_cluster_lag_ms {}\n"
      "# HELP fundledger_cluster_last_verified_size Entries verified (the next index).\n"
      "# TYPE fundledger_cluster_last_verified_size gauge\nfundledger_cluster_last_verified_size "
      "{}\n# HELP fundledger_cluster_stopped 1 when the node stopped applying (a bad row).\n"
      "# TYPE fundledger_cluster_stopped gauge\nfundledger_cluster_stopped {}\n",
      s.role == "writer" ? 1 : 0, s.applied, s.record_size, s.lag_entries, s.lag_ms,
      s.last_verified, s.failure.empty() ? 0 : 1);
  return r;
}

}  // namespace fundledger
