// `fundledger audit`: what an auditor runs. export writes a bundle from a data dir; verify and
// prove need nothing but a bundle (no database). Exit codes: 0 valid, 1 invalid (with the
// first bad index and why), 2 unusable input.
#pragma once

#include <optional>
#include <string>

#include "ledger/log_source.h"
#include "replay/anomaly_checks.h"

namespace fundledger {

int CmdAuditExport(const std::string& dir, const std::string& out, uint64_t from,
                   std::optional<uint64_t> to);
// The trusted key is --vkey or the log line of a C2SP tlog-policy (`policy_file`); without
// either it refuses (exit 2). With a policy the latest checkpoint must also carry its quorum of
// witness cosignatures (exit 1 otherwise).
int CmdAuditVerify(const std::string& bundle, const std::string& trusted_checkpoint_file,
                   const std::string& vkey, const std::string& policy_file);
// Anomaly checks over a data dir or a bundle; format: table | json | csv; as_of: what
// ParseAsOf reads ("" now, an entry index, a time, a date), the instant the checks run at;
// lang: en | zh, the language of the table's and the CSV's headers and details (JSON has both).
int CmdAuditChecks(const std::string& dir, const std::string& bundle, const std::string& format,
                   int idle_days, const std::string& as_of, const std::string& lang);
// The instant and the entries of an "as of" (`name` in errors) for the checks: a time or date
// as given, an entry index as that entry's time (the HTTP anomaly list reads it too).
Status ChecksAsOf(const LogSource& source, const std::string& text, std::string_view name,
                  AnomalyOptions& options);
int CmdAuditProve(const std::string& bundle, uint64_t index, const std::string& checkpoint_file,
                  bool json);

}  // namespace fundledger
