// fundledger serve --cluster FILE: one node of a cluster (api/cluster_node.h); fundledger
// roll-city: the roll benchmarks' city, embedded or as a cluster's first writer.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>

#include "api/city_builder.h"
#include "api/cli_exit.h"
#include "api/cli_service.h"
#include "api/cluster_node.h"
#include "api/metrics.h"
#include "api/service.h"
#include "api/tokens.h"
#include "replay/snapshot.h"

namespace fundledger {

int CmdServeCluster(const ServeFlags& flags) {
  Result<ClusterConfig> config = ClusterConfig::ReadFile(flags.cluster);
  if (!config.ok()) return ExitFailure(Status(config.status()).WithField("cluster"));
  if (!flags.dir.empty() && flags.dir != config->data) {
    return ExitFailure(
        InvalidArgument("--data " + flags.dir + " is not the cluster file's data " + config->data)
            .WithField("data"));
  }
  const std::string dir = config->data;
  // Declared before the node that feeds them, so they outlive its ledger.
  auto projections = std::make_unique<Projections>();
  LedgerOptions options = WithSnapshots(dir, *projections, WithProjections(*projections, {}));
  options.vault_key_path = flags.vault_key;
  options.log.checkpoint_interval_ms = flags.checkpoint_interval_ms;
  Result<std::unique_ptr<ClusterNode>> opened = ClusterNode::Open(*config, std::move(options));
  if (!opened.ok()) return ExitFailure(opened.status());
  ClusterNode& node = **opened;
  TokenStore tokens(dir);
  Metrics metrics;
  ServiceOptions service_options;
  service_options.public_log = flags.public_log;
  service_options.data_dir = dir;
  if (!flags.quiet) {
    service_options.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  }
  Service service(node.ledger(), *projections, tokens, metrics, service_options);
  ClusterHandler handler(service, node);
  ServerOptions server_options = flags.server;
  HttpServer server(handler, server_options);
  Result<uint16_t> port = server.Start();
  if (!port.ok()) return ExitFailure(port.status());
  const std::string host = server_options.listen.substr(0, server_options.listen.rfind(':'));
  fmt::print("fundledger serving {} ({} entries) as cluster node {} ({}) on {}://{}:{}\n",
             node.ledger().log().origin(), node.ledger().log().size(), config->node,
             node.writing() ? "writer" : "follower",
             server_options.tls_cert_file.empty() ? "http" : "https", host, *port);
  std::fflush(stdout);
  node.Start();
  server.Run();
  node.Stop();
  Status closed = node.ledger().Close();
  if (!closed.ok()) return ExitFailure(closed);
  fmt::print("stopped cleanly at {} entries\n", node.ledger().log().size());
  return 0;
}

int CmdRollCity(const RollCityFlags& flags) {
  if (flags.dir.empty() == flags.cluster.empty())
    return ExitFailure(InvalidArgument("give --data or --cluster").WithField("data"));
  Projections projections;
  std::unique_ptr<ClusterNode> node;  // declared before the ledger it holds
  std::unique_ptr<Ledger> embedded;
  if (!flags.cluster.empty()) {
    Result<ClusterConfig> config = ClusterConfig::ReadFile(flags.cluster);
    if (!config.ok()) return ExitFailure(Status(config.status()).WithField("cluster"));
    if (std::filesystem::exists(StorePath(config->data)))
      return ExitFailure(Conflict("a ledger already exists at " + config->data));
    Result<std::unique_ptr<ClusterNode>> opened =
        ClusterNode::Open(*config, WithProjections(projections, {}));
    if (!opened.ok()) return ExitFailure(opened.status());
    node = std::move(*opened);
    if (!node->writing() || node->ledger().log().size() != 1)
      return ExitFailure(Conflict("the log of record " + config->origin + " is not new"));
  } else {
    if (std::filesystem::exists(StorePath(flags.dir)))
      return ExitFailure(Conflict("a ledger already exists at " + flags.dir));
    Result<std::unique_ptr<Ledger>> created =
        Ledger::Create(flags.dir, flags.origin, WithProjections(projections, {}));
    if (!created.ok()) return ExitFailure(created.status());
    embedded = std::move(*created);
  }
  Ledger& ledger = node ? node->ledger() : *embedded;
  const auto start = std::chrono::steady_clock::now();
  Status posted = PostRollCity(ledger, flags.people);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t entries = ledger.log().size();
  Status closed = ledger.Close();
  if (!posted.ok()) return ExitFailure(posted);
  if (!closed.ok()) return ExitFailure(closed);
  fmt::print("roll city: {} people, {} entries in {:.1f} s\n", flags.people, entries, secs);
  return 0;
}

}  // namespace fundledger
