#include "api/cli_witness.h"

#include <fmt/core.h>

#include "api/cli_exit.h"
#include "api/witness_service.h"
#include "witness/witness.h"

namespace fundledger {

int CmdWitnessInit(const std::string& dir, const std::string& name) {
  Status created = Witness::Create(dir, name);
  if (!created.ok()) return ExitFailure(created);
  Result<std::unique_ptr<Witness>> witness = Witness::Open({dir, WitnessConfig{}, {}});
  if (!witness.ok()) return ExitFailure(witness.status());
  fmt::print("witness {} created in {}\nkey: {}\n", name, dir, (*witness)->VerifierKey());
  return 0;
}

int CmdWitnessServe(const std::string& dir, const std::string& config_file,
                    ServerOptions server_options) {
  Result<WitnessConfig> config = ReadWitnessConfigFile(config_file);
  if (!config.ok()) return ExitFailure(Status(config.status()).WithField("config"));
  size_t logs = config->logs.size();
  Result<std::unique_ptr<Witness>> witness = Witness::Open({dir, std::move(config).value(), {}});
  if (!witness.ok()) return ExitFailure(witness.status());
  WitnessService service(**witness);
  server_options.public_body_bytes_max = kAddCheckpointBodyBytesMax;
  HttpServer server(service, server_options);
  Result<uint16_t> port = server.Start();
  if (!port.ok()) return ExitFailure(port.status());
  std::string host = server_options.listen.substr(0, server_options.listen.rfind(':'));
  fmt::print("fundledger witness {} for {} log(s) on http://{}:{}\n", (*witness)->VerifierKey(),
             logs, host, *port);
  std::fflush(stdout);
  server.Run();
  fmt::print("witness stopped\n");
  return 0;
}

}  // namespace fundledger
