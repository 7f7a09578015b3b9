// fundledger serve --cluster FILE: one node of a cluster (api/cluster_node.h).
#include <fmt/core.h>

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

}  // namespace fundledger
