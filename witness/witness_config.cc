#include "witness/witness_config.h"

#include <set>

#include "witness/text_file.h"

namespace fundledger {
namespace {

Status ConfigError(std::string why, uint64_t line) {
  return InvalidArgument("witness config: " + std::move(why)).WithLine(line);
}

bool HasControlCharacter(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A statement is "<keyword> <argument>"; the argument is the rest of the line, verbatim.
Status AddStatement(std::string_view keyword, std::string_view argument, uint64_t line,
                    std::set<std::string, std::less<>>& origins, WitnessConfig& config) {
  if (keyword == "origin") {
    if (argument.empty() || argument.front() == ' ' || argument.back() == ' ' ||
        HasControlCharacter(argument)) {
      return ConfigError("origin must be a non-empty line without leading or trailing spaces",
                         line);
    }
    if (!origins.insert(std::string(argument)).second) {
      return ConfigError("origin '" + std::string(argument) + "' is listed twice", line);
    }
    if (config.logs.size() == kWatchedLogsMax) {
      return ConfigError("more than " + std::to_string(kWatchedLogsMax) + " logs", line);
    }
    config.logs.push_back(WatchedLog{std::string(argument), {}});
    return Status::Ok();
  }
  if (keyword != "key") return ConfigError("unknown keyword '" + std::string(keyword) + "'", line);
  if (config.logs.empty()) return ConfigError("a key line must follow an origin line", line);
  Result<NoteVerifier> key = ParseVerifierKey(argument);
  if (!key.ok()) return ConfigError(key.status().message(), line);
  if (key->algorithm != kNoteAlgEd25519) {
    return ConfigError("a log key must be an Ed25519 note key (signature type 0x01)", line);
  }
  WatchedLog& log = config.logs.back();
  if (log.keys.size() == kWatchedLogKeysMax) {
    return ConfigError("more than " + std::to_string(kWatchedLogKeysMax) + " keys for one log",
                       line);
  }
  log.keys.push_back(*key);
  return Status::Ok();
}

}  // namespace

Result<WitnessConfig> ParseWitnessConfig(std::string_view text) {
  if (text.size() > kWitnessConfigBytesMax) return TooLarge("witness config is over 1 MiB");
  WitnessConfig config;
  std::set<std::string, std::less<>> origins;
  FL_RETURN_IF_ERROR(ForEachLine(text, [&](std::string_view s, uint64_t line) {
    size_t first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos || s[first] == '#') return Status::Ok();
    if (first != 0) return ConfigError("a statement must start at the beginning of its line", line);
    size_t space = s.find(' ');
    if (space == std::string_view::npos) return ConfigError("statement has no argument", line);
    return AddStatement(s.substr(0, space), s.substr(space + 1), line, origins, config);
  }));
  for (const WatchedLog& log : config.logs) {
    if (log.keys.empty()) return ConfigError("origin '" + log.origin + "' has no key line", 0);
  }
  return config;
}

Result<WitnessConfig> ReadWitnessConfigFile(const std::string& path) {
  FL_ASSIGN_OR_RETURN(std::string text,
                      ReadTextFile(path, kWitnessConfigBytesMax, "witness config"));
  Result<WitnessConfig> config = ParseWitnessConfig(text);
  if (!config.ok()) return InFile(path, config.status());
  return config;
}

}  // namespace fundledger
