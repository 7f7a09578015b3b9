// The subcommands of `fundledger` over the state derived from the log: replay (rebuild and
// compare the projections, or --repair them), snapshot, balance. Each returns an exit code
// (cli_exit.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fundledger {

// to_index: apply entries up to this index only. repair: rewrite the stored projections
// (the server must be stopped). snapshot: start from this snapshot file.
int CmdReplay(const std::string& dir, std::optional<uint64_t> to_index, bool repair,
              const std::string& snapshot);
int CmdSnapshot(const std::string& dir);
// A fund's balance per bucket, now or as of `as_of` (ParseAsOf, projections/fund_balances.h).
int CmdBalance(const std::string& dir, const std::string& fund, const std::string& as_of);

}  // namespace fundledger
