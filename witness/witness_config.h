// The logs a witness watches: per origin, the Ed25519 keys whose signatures it accepts.
//
// File format (UTF-8 text; one statement per line; blank lines and lines whose first
// non-blank character is '#' are ignored):
//
//   origin <origin line>      a log, by its checkpoint's exact origin line (spaces allowed,
//                             none leading or trailing)
//   key <vkey>                a verifier key (signature type 0x01) trusted for the origin
//                             named on the closest "origin" line above; one or more per log
//
//   # the Ministry's subsidy log, and Go's checksum database (whose key name is not its origin)
//   origin example.gov.cn/fundledger/subsidies
//   key example.gov.cn/fundledger/subsidies+1a2b3c4d+AcN...
//   origin go.sum database tree
//   key sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
//
// Several keys for one origin let a log rotate its key: each key's signature is accepted.
// Errors name the 1-based line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/note.h"

namespace fundledger {

inline constexpr size_t kWatchedLogsMax = 1024;
inline constexpr size_t kWatchedLogKeysMax = 8;
inline constexpr size_t kWitnessConfigBytesMax = 1 << 20;

struct WatchedLog {
  std::string origin;
  std::vector<NoteVerifier> keys;  // at least one; signature type 0x01
};

struct WitnessConfig {
  std::vector<WatchedLog> logs;  // distinct origins
};

Result<WitnessConfig> ParseWitnessConfig(std::string_view text);
Result<WitnessConfig> ReadWitnessConfigFile(const std::string& path);

}  // namespace fundledger
