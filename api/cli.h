// The `fundledger` command line: one subcommand per user task, each taking --data DIR.
//
// Exit codes: 0 success (for verify: the log is valid); 1 the command failed or the log is
// invalid, with the reason on stderr; 2 unusable input (bad arguments, no store).
#pragma once

namespace fundledger {

int RunCli(int argc, char** argv);

}  // namespace fundledger
