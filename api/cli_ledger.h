// How a `fundledger` subcommand opens a data directory: the log alone, or the whole ledger
// with the projections it feeds, read-only (beside a running server) or for writing (the
// server must be stopped: RocksDB allows one writer).
//
//   Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);
//   if (!opened.ok()) return ExitFailure(opened.status());
//   opened->ledger->domain().Read([&](const DomainState& at) { ... *opened->projections ... });
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "projections/projections.h"

namespace fundledger {

// A ledger and its projections. The projections are declared first so they outlive the
// ledger that feeds them.
struct OpenedLedger {
  std::unique_ptr<Projections> projections;
  std::unique_ptr<Ledger> ledger;
};

// The log alone. `check_tail`: check the newest entries on open (verify walks them anyway).
Result<std::unique_ptr<Log>> OpenLogReadOnly(const std::string& dir, bool check_tail = true);
// The ledger from its newest snapshot and the log's tail, read-only.
Result<OpenedLedger> OpenLedgerReadOnly(const std::string& dir);
// The ledger for appending, with snapshots; `vault_key` "" lets ResolveVaultKey (vault.h) find it;
// `checkpoint_interval_ms` 0 signs a checkpoint in every commit.
// OK unless another process holds the store's lock (RocksDB's fcntl lock on store/LOCK): then
// Conflict naming the data directory, the holder's pid and that a server is running on it,
// instead of RocksDB's "lock file ... Resource temporarily unavailable". Every command that
// opens the store for writing checks this first.
Status CheckStoreNotInUse(const std::string& dir);

// What init and demo print about the vault's master key of a new ledger at `dir`: where it is,
// and that it is backed up apart from the data directory.
std::string VaultKeyNotice(const std::string& dir, const std::string& given = "");
// serve's warning when the master key sits inside the data directory (an earlier layout, or
// --vault-key naming a file there): every copy of the directory then carries it. "" otherwise.
std::string VaultKeyInsideWarning(const std::string& dir, const std::string& given);

Result<OpenedLedger> OpenLedgerForWrite(const std::string& dir, const std::string& vault_key = "",
                                        int64_t checkpoint_interval_ms = 0);

}  // namespace fundledger
