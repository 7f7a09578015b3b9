// The `fundledger` command line: the table of subcommands and their options (CLI11), each
// taking --data DIR, dispatching to the Cmd* functions of cli_log.h (the log), cli_state.h
// (replay, snapshot, balance), cli_service.h (serve, tokens, import, export, post, erase,
// disclose, demo) and cli_audit.h (audit bundles).
//
// Exit codes (cli_exit.h): 0 success (for verify: the log is valid); 1 the command failed or
// the log is invalid, with the reason on stderr; 2 unusable input (bad arguments, no store).
#pragma once

namespace fundledger {

int RunCli(int argc, char** argv);

}  // namespace fundledger
