// `fundledger witness`: run a C2SP tlog-witness for other logs (another bureau, the audit
// office, a charity federation).
//   witness init  --data DIR --name NAME     creates DIR with a new witness key; prints its vkey
//   witness serve --data DIR --config FILE --listen ADDR
//                                           serves add-checkpoint for the logs FILE names
//                                           (witness/witness_config.h) until SIGTERM
// Exit codes as every command: 0 ok, 1 failed, 2 unusable input.
#pragma once

#include <string>

#include "api/http_server.h"

namespace fundledger {

int CmdWitnessInit(const std::string& dir, const std::string& name);
int CmdWitnessServe(const std::string& dir, const std::string& config, ServerOptions server);

}  // namespace fundledger
