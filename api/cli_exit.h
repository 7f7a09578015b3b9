// How a `fundledger` subcommand ends: its exit code, and the one way it reports a failure.
//
// Exit codes: 0 success (for verify: the log is valid); 1 the command failed or the log is
// invalid; 2 unusable input (bad arguments, no such store, entry or fund).
//
//   Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
//   if (!log.ok()) return ExitFailure(log.status());
#pragma once

#include "crypto/status.h"

namespace fundledger {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUnusable = 2;

// Prints "error: ..." and each detail (a roll's bad lines) on stderr and returns the exit
// code: kExitUnusable for InvalidArgument and NotFound, kExitFailed otherwise.
int ExitFailure(const Status& status);

}  // namespace fundledger
