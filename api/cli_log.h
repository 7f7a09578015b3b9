// The subcommands of `fundledger` that create, read and check the log itself: init,
// checkpoint, key, verify, prove inclusion | consistency, entry. All but init open the log
// read-only, so they may run beside a server. Each returns an exit code (cli_exit.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fundledger {

int CmdInit(const std::string& dir, const std::string& origin);
int CmdCheckpoint(const std::string& dir);
int CmdKey(const std::string& dir);
// threads: 0 is one per core. vkey: trust this key instead of the genesis entry's.
int CmdVerify(const std::string& dir, const std::string& vkey, unsigned threads);
// size: the tree size the proof is for; none is the latest signed checkpoint's.
int CmdProveInclusion(const std::string& dir, uint64_t index, std::optional<uint64_t> size);
int CmdProveConsistency(const std::string& dir, uint64_t old_size, std::optional<uint64_t> size);
int CmdEntry(const std::string& dir, uint64_t index);

}  // namespace fundledger
